#!/usr/bin/env python
"""Django's command-line utility for SafeCam."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safecam.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A malformed environment variable: one clear line, not a traceback.
        sys.stderr.write(f"SafeCam cannot start: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
