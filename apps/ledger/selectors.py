from .models import Wallet


def wallet_or_empty(*, merchant_id: int, distributor_id: int) -> Wallet:
    """The distributor's wallet, or an unsaved empty one (for display) if none was opened yet."""
    wallet = Wallet.objects.filter(merchant_id=merchant_id, distributor_id=distributor_id).first()
    return wallet or Wallet(merchant_id=merchant_id, distributor_id=distributor_id)
