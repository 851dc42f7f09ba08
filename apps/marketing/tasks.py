from celery import shared_task

from . import services


@shared_task
def flash_sales_close() -> int:
    """Beat: ended flash sales give their unsold units back to their SKUs (once each)."""
    return services.flash_sales_close()
