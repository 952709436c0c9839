"""``python -m headwater.runtime.code_unpack FLOW KEY DIR``: unpack a flow's code package.

What a pod (Argo Workflows, a KubernetesPodOperator) runs before its ``step`` command: the
package stored under ``KEY`` in the datastore the settings name (``HEADWATER_*`` in the
environment) is unpacked into ``DIR``, where the flow file then runs.
"""

from __future__ import annotations

import sys


def unpack(flow: str, key: str, directory: str) -> str:
    from headwater.datastore.code_package import CodePackage
    from headwater.settings import load_settings
    from headwater.stores import open_stores

    stores = open_stores(load_settings())
    try:
        data = stores.datastore.load_package(flow, key)
        return CodePackage(data, key).extract(directory)
    finally:
        stores.close()


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write("usage: python -m headwater.runtime.code_unpack FLOW KEY DIR\n")
        return 2
    from headwater.exceptions import HeadwaterException

    try:
        unpack(*argv)
    except HeadwaterException as ex:
        sys.stderr.write(f"error: cannot unpack the code package {argv[1]}: {ex}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
