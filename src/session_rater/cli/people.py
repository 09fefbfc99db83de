"""``session-rater add-person``, ``set-password`` and ``people``: accounts from the command line,
for the first administrator of an install that signs in through an organisation provider
(where the app's first-run form is not offered) and for an administrator locked out."""

from __future__ import annotations

import argparse
import getpass
import sys

from session_rater.domain.model import Role
from session_rater.errors import SignInError


def _password(args: argparse.Namespace) -> str | None:
    if args.no_password:
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 10 characters): ")
    if first != getpass.getpass("Password again: "):
        raise SignInError("The two passwords differ; nothing was changed.")
    return first


def _cmd_add_person(args: argparse.Namespace) -> int:
    from session_rater.usecases.services import open_services

    services = open_services(load_demo=False)
    password = _password(args)
    person = services.accounts.add_person(args.name, args.email, [Role(r) for r in args.role], password,
                                          actor_id=None)
    how = "a password" if password is not None else "organisation sign-in only"
    print(f"Added {person.display_name} <{person.email}> ({', '.join(sorted(person.roles))}; {how}).")
    return 0


def _cmd_set_password(args: argparse.Namespace) -> int:
    from session_rater.usecases.services import open_services

    services = open_services(load_demo=False)
    person_id = services.accounts.person_id_for_email(args.email)
    if person_id is None:
        raise SignInError(f"Nobody has the email {args.email}. `session-rater people` lists everyone.")
    args.no_password = False
    services.accounts.set_password(person_id, _password(args) or "", actor_id=None)
    print(f"New password set for {args.email}.")
    return 0


def _cmd_people(args: argparse.Namespace) -> int:
    from session_rater.usecases.services import open_services

    services = open_services(load_demo=False)
    for account in services.accounts.accounts():
        person = account.person
        state = "" if account.active else "  [closed]"
        print(f"{person.id:>5}  {person.display_name:<28} {person.email or '-':<36} "
              f"{', '.join(sorted(person.roles)) or '-'}{state}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    add = sub.add_parser("add-person", help="add a person with their roles (and a password)")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True, help="they sign in with it (and it matches their organisation login)")
    add.add_argument("--role", action="append", required=True, choices=[r.value for r in Role],
                     help="a role; repeat for several")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    how.add_argument("--no-password", action="store_true", help="organisation sign-in only")
    add.set_defaults(func=_cmd_add_person)
    reset = sub.add_parser("set-password", help="set a new password for a person (by email)")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset.set_defaults(func=_cmd_set_password)
    sub.add_parser("people", help="list everyone, their emails and roles").set_defaults(func=_cmd_people)
