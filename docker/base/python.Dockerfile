# A stand-in for python:3.12-slim made from Debian alone (Python 3.11), for machines that
# reach Debian's mirror and PyPI but no container registry. BASE_IMAGE is a `docker import`
# of `debootstrap --variant=minbase --include=ca-certificates,python3,python3-venv,...
# bookworm` (docker/test.sh); certs/ holds extra CA certificates to trust (a TLS-inspecting
# proxy's, say), possibly none.
ARG BASE_IMAGE=juriscope-ci/bookworm
FROM ${BASE_IMAGE}
ENV LANG=C.UTF-8
COPY certs/ /usr/local/share/ca-certificates/
RUN python3 -m venv --help > /dev/null && update-ca-certificates
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
