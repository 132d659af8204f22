# The rsuper API image (CPU only: the LLM runs in the vllm service).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md* ./
COPY schemas ./schemas
COPY report_extractor ./report_extractor
COPY store ./store
COPY api ./api
COPY rsuper_cli ./rsuper_cli
COPY segmentation ./segmentation
COPY phantom ./phantom
RUN pip install --no-cache-dir --prefix=/install ".[api,postgres]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 rsuper && mkdir -p /data/uploads && chown rsuper /data/uploads
COPY --from=build /install /usr/local
USER rsuper
WORKDIR /home/rsuper
ENV PYTHONUNBUFFERED=1 RSUPER_UPLOAD_DIR=/data/uploads
EXPOSE 8080
CMD ["rsuper", "serve", "--host", "0.0.0.0", "--port", "8080"]
