# Prometheus layout: `make docker` (or promu crossbuild) puts a static
# binary per platform under .build/${OS}-${ARCH}/. FROM scratch: nothing in
# the image but the binary and its example config.
ARG ARCH="amd64"
ARG OS="linux"
FROM scratch
LABEL org.opencontainers.image.title="tcpping_exporter" \
      org.opencontainers.image.description="TCP round-trip time, loss and connection stability for Prometheus, with the echo server for the other end" \
      org.opencontainers.image.source="https://github.com/tcpping/tcpping_exporter" \
      org.opencontainers.image.licenses="Apache-2.0"

# ARGs declared before FROM are not visible after it; re-declare them.
ARG ARCH="amd64"
ARG OS="linux"
COPY .build/${OS}-${ARCH}/tcpping_exporter /bin/tcpping_exporter
COPY tcpping.yml /etc/tcpping_exporter/tcpping.yml

# nobody:nogroup. Numeric, as scratch has no /etc/passwd to look a name up in.
USER 65534:65534
EXPOSE 2112 4000
ENTRYPOINT ["/bin/tcpping_exporter"]
CMD ["--config.file=/etc/tcpping_exporter/tcpping.yml"]
