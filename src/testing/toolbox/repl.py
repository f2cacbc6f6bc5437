# The local simulator's interpreter: one process per context, reading one
# JSON request per line on stdin ({"code", "envs", "timeout"}) and writing
# JSON messages on stdout, one per line, as the toolbox sends them:
# {"type": "stdout"|"stderr", "text"}, {"type": "error", "name", "value",
# "traceback"}, then {"type": "control", "text": "completed"|"interrupted"}.
# Names defined by one request stay for the next.

import json
import os
import signal
import sys
import traceback

OUT = sys.stdout

# The most characters of output in one message: a huge print comes in
# several.
LIMIT = 4096


def send(message):
    OUT.write(json.dumps(message) + "\n")
    OUT.flush()


class Stream:
    """A file that sends what is written to it, line by line."""

    def __init__(self, kind):
        self.kind = kind
        self.pending = ""

    def write(self, text):
        self.pending += str(text)
        if "\n" in self.pending or len(self.pending) >= LIMIT:
            self.flush()
        return len(text)

    def flush(self):
        pending, self.pending = self.pending, ""
        for start in range(0, len(pending), LIMIT):
            send({"type": self.kind, "text": pending[start:start + LIMIT]})

    def isatty(self):
        return False

    def writable(self):
        return True


class Interrupted(BaseException):
    pass


def on_alarm(signum, frame):
    raise Interrupted()


def run(request, namespace):
    saved = {}
    stdout, stderr = Stream("stdout"), Stream("stderr")
    sys.stdout, sys.stderr = stdout, stderr
    outcome = "completed"
    timeout = request.get("timeout") or 0
    try:
        # A name the environment cannot hold ("A=B") fails the run, not
        # the process (and the context's names with it).
        for name, value in (request.get("envs") or {}).items():
            saved[name] = os.environ.get(name)
            os.environ[name] = str(value)
        if timeout > 0:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        exec(compile(request.get("code", ""), "<cell>", "exec"), namespace)
    except Interrupted:
        outcome = "interrupted"
    except SystemExit:
        pass
    except BaseException as e:  # noqa: B902 - every exception is the user's
        stdout.flush()
        stderr.flush()
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == "<cell>"]
        lines = ["Traceback (most recent call last):\n"]
        lines += ['  File "<cell>", line %d\n' % f.lineno for f in frames]
        lines.append("%s: %s\n" % (type(e).__name__, e))
        send({"type": "error", "name": type(e).__name__, "value": str(e),
              "traceback": "".join(lines)})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        stdout.flush()
        stderr.flush()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    send({"type": "control", "text": outcome})


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    namespace = {"__name__": "__main__"}
    for line in sys.stdin:
        if line.strip():
            run(json.loads(line), namespace)


main()
