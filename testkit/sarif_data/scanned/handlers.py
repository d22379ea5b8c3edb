"""A small web handler with the mistakes scanners look for."""

import hashlib
import pickle
import subprocess

import yaml

PASSWORD = "hunter2"


def run(command):
    return subprocess.call(command, shell=True)


def load(blob):
    return pickle.loads(blob)


def config(text):
    return yaml.load(text)


def digest(data):
    return hashlib.md5(data).hexdigest()


def check(value: Any):
    assert value, "value required"
    try:
        return int(value)
    except:
        return None
