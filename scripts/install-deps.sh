#!/usr/bin/env bash
# Installs what Eddy needs and this machine lacks; does nothing when everything is there.
# Debian packages: librocksdb-dev (RocksDB 7.8, the storage engine), librdkafka-dev (librdkafka 2.0.2, the
# Kafka client of EddyKafka) and pkg-config (SwiftPM finds both through it); kcat, the independent Kafka
# client the Kafka tests read with. python3 is used by the decimal reference tests and, with aiosmtpd (from
# PyPI, or Debian's python3-aiosmtpd where pip cannot install), as the local SMTP server of the WelcomeEmail
# example and its test. From PyPI, noida-db 0.2.3: a broker speaking Kafka's protocol and an Elasticsearch
# service, for the Kafka and search-index tests;
# pytest (with pytest-timeout), boto3 and the AWS CLI, the real clients of the server tests;
# aws-lambda-powertools 3.37.0 with its parser (pydantic), whose DynamoDBStreamLambdaOnFailureDestinationModel
# checks the triggers' on-failure records; awslambdaric 4.2.2, the runtime of Python functions.
set -euo pipefail

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
pkg-config --exists rocksdb 2>/dev/null || missing+=(librocksdb-dev)
pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "Installing aiosmtpd" >&2
    if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet aiosmtpd 2>/dev/null; then
        # No pip, or a system Python that pip may not change (PEP 668): Debian's package.
        echo "pip could not install aiosmtpd; installing python3-aiosmtpd" >&2
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-aiosmtpd >/dev/null
    fi
fi

if ! command -v noida-db >/dev/null 2>&1; then
    echo "Installing noida-db 0.2.3 (the Kafka broker and Elasticsearch of the tests)" >&2
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet noida-db==0.2.3
    # pyenv installs console scripts behind shims, which need a rehash to appear on PATH.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi

# The server tests drive `eddy serve` with pytest, boto3 and the AWS CLI (Tests/server); pytest-timeout fails a
# test that hangs instead of letting it stall the suite. TriggerFailureRecordTests parses on-failure records
# with aws-lambda-powertools' model, as a Lambda user's code would.
powertools='aws-lambda-powertools[parser]==3.37.0'
if ! python3 -c 'import pytest, pytest_timeout, boto3' 2>/dev/null || ! command -v aws >/dev/null 2>&1 \
    || ! python3 -c 'import aws_lambda_powertools.utilities.parser.models as m, importlib.metadata as md; m.DynamoDBStreamLambdaOnFailureDestinationModel; assert md.version("aws-lambda-powertools") == "3.37.0"' 2>/dev/null; then
    echo "Installing pytest, pytest-timeout, boto3, awscli (the server tests' clients) and $powertools" >&2
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet pytest pytest-timeout boto3 awscli "$powertools"
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi

# Python functions of `eddy serve` run under awslambdaric, Lambda's runtime interface client for Python
# (`python3 -m awslambdaric module.handler`).
if ! python3 -c 'import importlib.metadata as md; assert md.version("awslambdaric") == "4.2.2"' 2>/dev/null; then
    echo "Installing awslambdaric 4.2.2 (the runtime of Python functions)" >&2
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet awslambdaric==4.2.2
fi
