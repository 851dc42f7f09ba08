"""The demo data of ``manage.py seed_demo``, one module per domain, each a few steps over the
shared ``DemoWorld`` (``world.py``). The command (``apps/demo/management/commands/seed_demo.py``)
only runs the steps in order, in one transaction.

Everything is made through the services a real user would trigger, so every row is consistent with
the money rules; the demo app stands above every other app, so it may call them all.
"""
