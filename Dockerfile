# Prism app server: one Streamlit process. compose.yaml runs two of these behind nginx, on PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# A user without a login shell or root rights runs the app; only data/ (SQLite, if used) is writable.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin prism
COPY --chown=root:root . .
RUN mkdir -p /app/data && chown prism:prism /app/data
USER prism

EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2).read() != b'ok')"

# serve.py: the app behind its security headers (security_headers.py).
CMD ["python", "-m", "streamlit", "run", "serve.py", \
     "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", \
     "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
