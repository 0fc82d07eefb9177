# eicontract as a container: the gate and its reference server (the `server` extra), nothing of the checkout.
#   docker build -t eicontract .
#   docker run --rm -e EI_API_KEY -v "$PWD/reports:/work/reports" eicontract run --target https://studio.edgeimpulse.com/v1 --project-id 12345
# See docs/CI.md.

# --- build the wheel from the source tree --------------------------------------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- the image: the wheel and its dependencies only -----------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir "$(ls /wheels/*.whl)[server]" && rm -rf /wheels \
    && useradd --create-home --uid 10001 gate \
    && mkdir /work && chmod 1777 /work
# not root; /work is writable by any uid, so `--user "$(id -u)"` works with a mounted reports/
USER gate
WORKDIR /work
ENTRYPOINT ["eicontract"]
CMD ["run"]
