"""The project's ASGI application (HTTP and the live rooms' WebSockets, ``config.asgi``) with the
static files served as well, the way Channels' ``ChannelsLiveServerTestCase`` wraps it: for a
daphne process that browser tests drive (``asgi_live_server`` in tests/browser/conftest.py). The
test settings leave WhiteNoise out, so without this the pages would load no scripts."""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from config.asgi import application as project_application

application = ASGIStaticFilesHandler(project_application)
