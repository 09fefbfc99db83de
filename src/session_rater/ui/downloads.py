"""Download links. Files are made by the app's own route (``/exports/<name>``, see
usecases/exports.py) for whoever is signed in in this browser, never handed to Streamlit's
media endpoint (whose URLs work for anyone who has one, signed in or not)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from urllib.parse import urlencode

import streamlit as st

EXPORTS_PATH = "/exports/"


def export_url(name: str, params: Mapping[str, str] | None = None) -> str:
    query = urlencode(dict(params or {}))
    return EXPORTS_PATH + name + (f"?{query}" if query else "")


def download_link(label: str, name: str, params: Mapping[str, str] | None = None, *, help: str = "",
                  disabled: bool = False, container=None) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    """A link that downloads the export ``name`` made with the page's choices ``params``,
    styled as a button (a link: Enter follows it, a screen reader announces it)."""
    target = container or st
    style = ("display:inline-flex;align-items:center;gap:.4rem;padding:.45rem .9rem;border-radius:.5rem;"
             "border:1px solid #8a8d93;text-decoration:none;color:#262730;background:#fff;font-weight:500")  # fmt: skip
    if disabled:
        target.markdown(f'<span style="{style};color:#5c5f66;background:#f0f2f6" aria-disabled="true">'
                        f"{html.escape(label)} (nothing to download)</span>", unsafe_allow_html=True)  # fmt: skip
        return
    title = f' title="{html.escape(help)}"' if help else ""
    target.markdown(
        f'<a href="{html.escape(export_url(name, params))}" download style="{style}"{title}>'
        f'<span aria-hidden="true">⤓</span> {html.escape(label)}</a>',
        unsafe_allow_html=True,
    )
