"""Alembic's command line over Prism's database: `python -m storage.migrations COMMAND [args] URL`.

Commands: upgrade [REV], downgrade REV, current, history, revision -m MSG [--autogenerate].
The URL defaults to the app's (settings.py: PRISM_DATABASE_URL, then sqlite:///data/prism.db).
"""

from __future__ import annotations

import argparse

from alembic import command
from sqlalchemy import create_engine

from settings import load_settings
from storage import migrations


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m storage.migrations")
    parser.add_argument("command", choices=["upgrade", "downgrade", "current", "history", "revision"])
    parser.add_argument("revision", nargs="?", default="head")
    parser.add_argument("--url", default=load_settings().database_url)
    parser.add_argument("-m", "--message", default="")
    parser.add_argument("--autogenerate", action="store_true")
    args = parser.parse_args()
    engine = create_engine(args.url)
    if args.command == "upgrade":
        migrations.upgrade(engine, args.revision)
    elif args.command == "downgrade":
        migrations.downgrade(engine, args.revision)
    elif args.command == "current":
        print(migrations.current_revision(engine))
    elif args.command == "history":
        command.history(migrations.alembic_config())
    else:
        with engine.connect() as conn:
            command.revision(
                migrations.alembic_config(conn), message=args.message, autogenerate=args.autogenerate
            )


if __name__ == "__main__":
    main()
