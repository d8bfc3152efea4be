"""How much memory a new allocation can have now: the machine's, and what the process's own limit leaves.

Used to refuse work estimated not to fit before any large array is
allocated (:mod:`xsq.training.resources` for training runs,
:func:`xsq.init_params` for a network's parameters).
"""

from __future__ import annotations

import os

from .errors import InputError

SHARE = 0.8  # the share of what is available that one piece of work may take


def available_bytes() -> int | None:
    """Memory available to a new allocation now: the smaller of the machine's (Linux's MemAvailable) and what
    the process's own limit on its address space leaves (RLIMIT_AS, ``ulimit -v``); None when neither is
    known."""
    known = [v for v in (_machine_bytes(), address_space_left()) if v is not None]
    return min(known) if known else None


def address_space_left() -> int | None:
    """Bytes the process may still map under its RLIMIT_AS (``ulimit -v``), or None when it has no limit."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError, AttributeError):  # not on this system
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    try:
        with open("/proc/self/statm") as handle:  # the first field: the mapped size, in pages
            used = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)


def _machine_bytes() -> int | None:
    """Memory the machine has available now (Linux's MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(need: int, what: str, advice: str) -> None:
    """Refuse (:class:`InputError`) ``what``, estimated at ``need`` bytes, when that is above ``SHARE`` of the
    memory available now; ``advice`` says what to do instead."""
    have = available_bytes()
    if have is not None and need > SHARE * have:
        limited = have == address_space_left()
        raise InputError(
            f"{what} needs about {need / 2**30:.3g} GiB of memory, more than {SHARE:.0%} of the "
            f"{have / 2**30:.3g} GiB available{' under this process limit (ulimit -v)' if limited else ''}; {advice}"
        )
