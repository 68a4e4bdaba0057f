# otelcol-procode container image, used by config/compose/ and config/kubernetes/.
#
#   docker build -t otelcol-procode:0.1.0 .
#
# The build stage runs `make build` (ocb fetches the pinned modules from the Go module
# proxy); the image holds the static binary and, under /etc/otelcol-procode/, the default
# configuration and its overlays (config/kubernetes/ runs them with a deployment's own
# overlay on top). Without --config it runs the embedded default configuration.
FROM golang:1.26 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 make build

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/_build/otelcol-procode /otelcol-procode
COPY config/otelcol.yaml /etc/otelcol-procode/otelcol.yaml
COPY config/overlays/ /etc/otelcol-procode/overlays/
# OTLP gRPC, OTLP HTTP, pipeline /metrics, own telemetry, readiness.
EXPOSE 4317 4318 8889 8888 13133
USER 65532:65532
ENTRYPOINT ["/otelcol-procode"]
