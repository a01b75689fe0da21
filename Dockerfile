# The image of each role, from the repository root. EXTRAS picks what it carries
# beyond a crawl's own dependencies (pyproject.toml):
#   docker build -t linkcrawler .
#       workers (`scrapy crawl backlinks`, the default command), the seed and
#       replay jobs, the liveness probe and scrapyd;
#   docker build --build-arg EXTRAS=profile,explorer -t linkcrawler-profile .
#       the profile job (`linkcrawler summarize`) and the Site Explorer (`linkcrawler serve`).
FROM python:3.11-slim AS build
ARG EXTRAS=scrapyd
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY linkcrawler ./linkcrawler
COPY spiders ./spiders
COPY pipelines ./pipelines
COPY settings ./settings
RUN /opt/venv/bin/pip install ".[${EXTRAS}]" && /opt/venv/bin/pip uninstall --yes pip

# The runtime stage gets the virtualenv only: no sources, no pip cache, no build files.
FROM python:3.11-slim
# /var/lib/linkcrawler/spill is STORE_SPILL_DIR in deploy/: a volume is mounted there (the image's owner
# carries over to a new Docker volume).
RUN useradd --system --uid 10001 --user-group --home-dir /home/linkcrawler --create-home linkcrawler \
    && mkdir -p /var/lib/scrapyd /var/lib/linkcrawler/spill \
    && chown linkcrawler:linkcrawler /var/lib/scrapyd /var/lib/linkcrawler/spill
COPY --from=build /opt/venv /opt/venv
COPY deploy/scrapyd.conf /etc/scrapyd/scrapyd.conf
# Cluster settings: REDIS_URL and MONGO_URI must come from the environment.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SCRAPY_SETTINGS_MODULE=settings.cluster
WORKDIR /home/linkcrawler
USER 10001:10001
CMD ["scrapy", "crawl", "backlinks"]
