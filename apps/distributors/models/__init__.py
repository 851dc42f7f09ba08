"""The distributor programme's models, one module per concept; import them from here."""

from .agency import DistributorPrice, TierSkuPrice
from .binding import BindingChange, CustomerBinding, binding_in_force
from .distributor import Distributor
from .imports import ImportJob
from .programme import ProgrammeSettings
from .recruitment import DistributorApplication, FraudFlag
from .tiers import Combinator, Tier, TierChange, TierCondition

__all__ = [
    "BindingChange",
    "Combinator",
    "CustomerBinding",
    "Distributor",
    "DistributorApplication",
    "DistributorPrice",
    "FraudFlag",
    "ImportJob",
    "ProgrammeSettings",
    "Tier",
    "TierChange",
    "TierCondition",
    "TierSkuPrice",
    "binding_in_force",
]
