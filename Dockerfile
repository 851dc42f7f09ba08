# Production image: gunicorn serving config.wsgi on port 8000. The same image runs the Celery worker
# and beat (see docker-compose.yml). Secrets come from the environment at run time, never the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod \
    WEB_CONCURRENCY=3

RUN useradd --create-home --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies first, so that code changes do not reinstall them. The lock holds only wheels for
# this platform (no compiler needed); it includes the dev extras as well.
COPY requirements.lock .
RUN pip install -r requirements.lock

COPY . .

# collectstatic loads the settings but touches neither the database nor Redis: these dummy values
# exist only in this build step and are not stored in the image's environment.
RUN DJANGO_SECRET_KEY=build-only-collectstatic \
    FENXIAO_SANDBOX_PAY_SECRET=build-only-collectstatic \
    FENXIAO_ENCRYPTION_KEYS=YnVpbGQtb25seS1jb2xsZWN0c3RhdGljLTMyYnl0ZXM= \
    FENXIAO_BLIND_INDEX_KEY=build-only-collectstatic-blind-index-key \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && mkdir -p media \
    && chown app:app media

USER app
EXPOSE 8000
# Workers, threads and the rest: config/gunicorn.conf.py (WEB_CONCURRENCY, GUNICORN_THREADS…).
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
