# The production image: one image for web (gunicorn), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var DJANGO_SETTINGS_MODULE=practice.settings

WORKDIR /app
COPY requirements/ requirements/
RUN pip install -r requirements/base.txt -c requirements/constraints.txt

COPY . .
# collectstatic needs settings, not secrets: a throwaway key for this one command.
RUN SECRET_KEY=collectstatic-only SMS_BACKEND=console python manage.py collectstatic --noinput \
    && python -m practice.catalogs \
    && useradd --system --uid 10001 --home-dir /app practice \
    && mkdir -p /app/var && chown -R practice /app/var
USER practice

EXPOSE 8000
# The access log names the path without its query string (a search's query holds phone numbers)
# and without a visit page's token (a link is a key).
CMD ["gunicorn", "practice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--logger-class", "practice.gunicorn_logging.AccessLogger", \
     "--access-logfile", "-", "--access-logformat", "%(m)s %(U)s %(s)s %(b)s %(M)sms"]
