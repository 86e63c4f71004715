"""Resuming an interrupted batch: every finished result is appended to a JSON-lines journal and
fsync'ed; a later run with the same journal reuses results whose inputs have not changed."""
import json
import os

from .. import __version__


def key(sub, seed, hidden):
    """What a result depends on: the file's bytes, its topic, the seed, the checks' version."""
    return f"{sub.path}|{sub.digest}|{sub.topic}|{seed}|{int(hidden)}|{__version__}"


class Journal:
    def __init__(self, path):
        self.path = path
        self.done = {}
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                        self.done[entry["key"]] = entry["result"]
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by the interruption
        self.file = open(path, "a")
        if self.file.tell() and not _ends_with_newline(path):
            self.file.write("\n")  # end a line cut short by an interruption

    def get(self, k):
        return self.done.get(k)

    def add(self, k, result):
        self.file.write(json.dumps({"key": k, "result": result}) + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self):
        self.file.close()


def _ends_with_newline(path):
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"
