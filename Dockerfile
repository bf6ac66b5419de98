FROM python:3.11-slim

# ffmpeg (with libx264 and libass) renders; the fonts cover Latin and CJK captions.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-noto-cjk fonts-dejavu-core curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY engine ./engine
COPY workers ./workers
COPY shortsbot ./shortsbot
RUN pip install --no-cache-dir '.[links]'

ENV DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
CMD ["shortsbot", "run"]
