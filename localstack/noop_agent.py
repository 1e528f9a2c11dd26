"""Write a do-nothing Java agent jar: the stand-in for LocalStack's ``ddb-local-loader``.

LocalStack starts DynamoDB Local with ``-javaagent:ddb-local-loader-0.1.jar``, a jar it downloads
from a host these machines cannot reach. The agent only patches DynamoDB Local's licence and
telemetry checks; DynamoDB Local 3.x runs without it. The JVM aborts when the agent has no
``premain`` method, so this writes a real (empty) one: ``NoopAgent.premain(String)`` as a
hand-assembled class file, so that no JDK (javac) is needed, only a JRE.
"""

from __future__ import annotations

import struct
import sys
import zipfile


def _utf8(text: str) -> bytes:
    data = text.encode()
    return b"\x01" + struct.pack(">H", len(data)) + data


def noop_agent_class() -> bytes:
    """``public class NoopAgent { public static void premain(String a) {} }``, class file v52."""
    pool = [
        _utf8("NoopAgent"),  # 1
        b"\x07" + struct.pack(">H", 1),  # 2 Class NoopAgent
        _utf8("java/lang/Object"),  # 3
        b"\x07" + struct.pack(">H", 3),  # 4 Class Object
        _utf8("premain"),  # 5
        _utf8("(Ljava/lang/String;)V"),  # 6
        _utf8("Code"),  # 7
    ]
    code = struct.pack(">HHI", 0, 1, 1) + b"\xb1" + struct.pack(">HH", 0, 0)  # `return`
    method = struct.pack(">HHHH", 0x0009, 5, 6, 1) + struct.pack(">HI", 7, len(code)) + code
    return (
        b"\xca\xfe\xba\xbe"
        + struct.pack(">HHH", 0, 52, len(pool) + 1)
        + b"".join(pool)
        + struct.pack(">HHHHH", 0x0021, 2, 4, 0, 0)
        + struct.pack(">H", 1)
        + method
        + struct.pack(">H", 0)
    )


def write_agent_jar(path: str) -> None:
    manifest = "Manifest-Version: 1.0\nPremain-Class: NoopAgent\nCreated-By: iris-monitor\n\n"
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", manifest)
        jar.writestr("NoopAgent.class", noop_agent_class())


if __name__ == "__main__":
    write_agent_jar(sys.argv[1])
