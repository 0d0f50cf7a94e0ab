"""``--uniprot ACC``: the variation JSON (EBI Proteins API) and AlphaMissense CSV (AlphaFold DB) of one protein.

The rules are model fetch's (``models.hub``): files arrive through ``models.download`` (``FILE.part``, retries,
short reads so Ctrl-C stops at once) into the cache folder and are read from there afterwards; each stage is
one line on stderr (or handed to a viewer's ``report``); a failure is one line: an unknown accession is bad input
(exit 2), an unreachable server is the network's fault (``HubUnreachable``, exit 1, as for models).
A protein AlphaFold DB has no AlphaMissense scores for (AlphaMissense covers human proteins) is said and skipped.
Base URLs can be pointed elsewhere (a mirror, the tests' loopback server) with the environment variables below.
"""
from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Callable

from saprot_scan.errors import HubUnreachable, InputError
from saprot_scan.known.accession import is_accession
from saprot_scan.known.formats import read_known
from saprot_scan.known.variants import KnownVariants
from saprot_scan.settings import cache_dir

ENV_UNIPROT_URL = "SAPROT_SCAN_UNIPROT_URL"  # base of the EBI Proteins API
ENV_ALPHAFOLD_URL = "SAPROT_SCAN_ALPHAFOLD_URL"  # base of AlphaFold DB's file store
ENV_TIMEOUT = "SAPROT_SCAN_FETCH_TIMEOUT"  # seconds one network wait may take (default 30)
UNIPROT_URL = "https://www.ebi.ac.uk/proteins/api"
ALPHAFOLD_URL = "https://alphafold.ebi.ac.uk/files"


def variation_url(accession: str) -> str:
    return f"{os.environ.get(ENV_UNIPROT_URL) or UNIPROT_URL}".rstrip("/") + f"/variation/{accession}"


def alphamissense_url(accession: str) -> str:
    return (f"{os.environ.get(ENV_ALPHAFOLD_URL) or ALPHAFOLD_URL}".rstrip("/")
            + f"/AF-{accession}-F1-aa-substitutions.csv")


def known_dir(accession: str) -> Path:
    return cache_dir() / "known" / accession


def _timeout() -> float:
    try:
        return max(0.1, float(os.environ.get(ENV_TIMEOUT) or 30))
    except ValueError:
        return 30.0


def _get(url: str, target: Path, accept: str, say: Callable[[str], None]) -> Path:
    """``target`` from the cache, or downloaded from ``url`` (raises download's HttpRefusal / ConnectionLost)."""
    from saprot_scan.models.download import RemoteFile, download
    from saprot_scan.models.stages import human_bytes

    if target.is_file():
        say(f"using the cached {target.name} ({human_bytes(target.stat().st_size)})")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"downloading {url}")
    got = [0]
    download(url, {"Accept": accept}, RemoteFile(target.name, None, None, None), target,
             lambda n: got.__setitem__(0, got[0] + n), timeout=_timeout())
    say(f"downloaded {target.name} ({human_bytes(got[0])})")
    return target


def _unreachable(accession: str, url: str, reason: str) -> HubUnreachable:
    host = urllib.parse.urlsplit(url).netloc
    return HubUnreachable(f"cannot fetch the known variants of {accession}: {host} is not reachable ({reason}); "
                          "check the network and run the same command again, or give the files with --known")


def fetch_known(accession: str, report: Callable[[str], None] | None = None) -> KnownVariants:
    """The known variants of ``accession`` (variation JSON, plus AlphaMissense when AlphaFold DB has it)."""
    from saprot_scan.known import combine
    from saprot_scan.models.download import ConnectionLost, HttpRefusal
    from saprot_scan.models.stages import Stages

    accession = str(accession).strip().upper()
    if not is_accession(accession):
        raise InputError(f"--uniprot {accession}: not a UniProt accession (e.g. P00698)")
    stages = Stages(None, sink=report) if report is not None else Stages()
    folder = known_dir(accession)
    url = variation_url(accession)
    try:
        parts = [read_known(_get(url, folder / f"{accession}.variation.json", "application/json", stages.say))]
    except HttpRefusal as err:
        if err.status in (400, 404):
            raise InputError(f"cannot fetch the known variants of {accession}: UniProt has no such accession "
                             f"(HTTP {err.status} from {url}); check the accession") from None
        raise HubUnreachable(f"cannot fetch the known variants of {accession}: {url} answered HTTP {err.status}; "
                             "run the same command again later") from None
    except ConnectionLost as err:
        raise _unreachable(accession, url, str(err)) from None
    url = alphamissense_url(accession)
    try:
        parts.append(read_known(_get(url, folder / f"AF-{accession}-F1-aa-substitutions.csv", "text/csv",
                                     stages.say)))
    except HttpRefusal as err:
        if err.status != 404:
            raise HubUnreachable(f"cannot fetch the AlphaMissense scores of {accession}: {url} answered HTTP "
                                 f"{err.status}; run the same command again later") from None
        stages.say(f"AlphaFold DB has no AlphaMissense scores for {accession} (HTTP 404); going on without them")
    except ConnectionLost as err:
        raise _unreachable(accession, url, str(err)) from None
    return combine(parts)
