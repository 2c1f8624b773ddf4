# The API and the indexer share this image. torch is pinned by constraints.txt;
# pass --build-arg TORCH_INDEX_URL=<a CPU wheel index> to keep the image small.
FROM python:3.11-slim
ARG TORCH_INDEX_URL=""
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY search ./search
COPY indexer ./indexer
COPY migrations ./migrations
COPY server ./server
COPY data/sample ./data/sample
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
      pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" torch==2.13.0; fi \
 && pip install --no-cache-dir -c constraints.txt .
ENV TRENDSEARCH_HOST=0.0.0.0 TRENDSEARCH_DATA_DIR=/data
EXPOSE 8000
ENTRYPOINT ["trendsearch"]
CMD ["serve"]
