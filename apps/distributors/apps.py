from django.apps import AppConfig


class DistributorsConfig(AppConfig):
    name = "apps.distributors"
    label = "distributors"
