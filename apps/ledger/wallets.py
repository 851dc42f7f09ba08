"""Opening wallets: the one way a distributor's ``Wallet`` row comes to exist.

A distributor gets its wallet when it joins (or is imported); posting to a distributor that has
none yet opens it too. Opening is idempotent (``INSERT … ON CONFLICT DO NOTHING``, rows in
distributor-id order), so a concurrent opener, or opening twice, changes nothing.
"""

from collections.abc import Iterable

from .models import SupplierWallet, Wallet


def wallets_open(*, merchant_id: int, distributor_ids: Iterable[int]) -> None:
    """Open the wallet of each of the merchant's distributors that has none (one statement)."""
    Wallet.objects.bulk_create(
        [
            Wallet(merchant_id=merchant_id, distributor_id=distributor_id)
            for distributor_id in sorted(set(distributor_ids))
        ],
        ignore_conflicts=True,
    )


def wallet_open(*, merchant_id: int, distributor_id: int) -> None:
    """Open one distributor's wallet (when it joins)."""
    wallets_open(merchant_id=merchant_id, distributor_ids=[distributor_id])


def supplier_wallets_open(*, merchant_id: int, supplier_ids: Iterable[int]) -> None:
    """Open the wallet of each supplier that has none with this merchant (one statement): a
    supplier's money with a store starts at the store's first sale of its goods."""
    SupplierWallet.objects.bulk_create(
        [
            SupplierWallet(merchant_id=merchant_id, supplier_id=supplier_id)
            for supplier_id in sorted(set(supplier_ids))
        ],
        ignore_conflicts=True,
    )
