"""Races as the user sees them: one per variable and pair of source lines, for the graph walk.

Every strategy's races are folded at the end (:func:`explorer.detectors.races.merge_races`)
by variable and the pair of *sites* of their two accesses: a site is the access's kind and
``file:line``, or, where the line is unknown, its kind, thread and the thread's step
number. Two threads adding 500 times to a counter race in 250,000 pairs of steps, which
are one race on two lines. So the graph walk (:mod:`.model_graph`) looks for races by
site: it hands out a path where an access makes a site pair not seen before, and its
summaries hold each epoch's accesses by site, not by step number.

That lets it forget an epoch: an epoch's accesses can race only with later accesses of
threads that do not know it, and once every pair of sites they could make is seen, the
epoch can show nothing new and is dropped from the state (and so from its key), as an
epoch every thread knows is. Which sites a thread may still access is not known ahead
(the code runs as it goes), so the walk takes the sites its threads' code was seen to
reach, per variable and per thread function (``code``: the code object of the thread's
generator): those are what the pairs are checked against. A function seen to access a
variable at a site not seen before, once an epoch was dropped on the strength of that
function's sites for that variable (and the new site conflicts with what was dropped),
may race with something forgotten: the walk raises :class:`SitesGrew`, and the strategy
walks again from the start knowing that site too (the runs made stand). The sites grow
with every walk again, and a function has finitely many lines, so this ends; in the
usual program every site is seen before any race is, and it never happens.
"""

from __future__ import annotations

from .seats import SeatsBroken

#: How many times a walk starts again with more sites before it stops dropping epochs.
MAX_WALKS = 6

READS, WRITES = 1, 2


class SitesGrew(SeatsBroken):
    """A thread function accesses a variable at a site not seen before, and epochs were
    dropped as seen in full against that function's sites: walk again, knowing it."""


class RaceSites:
    """What the walk knows of the sites of its threads' accesses, and which epochs it may
    drop. ``names``: the threads' names; ``codes``: each thread's function number;
    ``seen``: the walk's set of what it handed out paths for (the race keys it holds are
    made by :meth:`key`); ``known``: the sites an earlier walk learned; ``drops``: whether
    epochs may be dropped at all."""

    __slots__ = ("code_bits", "codes_of", "dead", "drops", "names", "relied", "seen", "sites", "strict", "version",
                 "walks")

    def __init__(self, names: tuple, codes: list[int], seen: set, known: dict | None = None,
                 drops: bool = True, strict: bool = False) -> None:
        self.names = names
        self.code_bits = [1 << code for code in codes]
        self.seen = seen
        # (variable, function) -> the sites seen to access it, None among them for one whose
        # line is unknown (then the epochs it may race with are never dropped)
        self.sites: dict = {} if known is None else {place: set(sites) for place, sites in known.items()}
        self.relied: dict = {}  # (variable, function) -> the kinds of access dropped against its sites
        self.drops = drops
        self.version = 0  # grows with every race key and site: an epoch not dead may be dead now
        self.dead: dict = {}  # (access list, functions) -> True, or the version it was found alive at
        self.codes_of: dict = {}  # a mask of threads -> the mask of their functions
        self.walks = 0  # the walks before this one that started again on a new site
        # a parallel search's, whose coordinator let epochs go: every process lets them go
        # against the sites it learned, and any other site raises SitesGrew (another
        # process may have let an epoch go that races there)
        self.strict = strict

    def learn(self, thread: int, var, site) -> None:
        """Thread ``thread`` is about to access ``var`` at ``site`` (None: line unknown)."""
        place = (var, self.code_bits[thread].bit_length() - 1)
        known = self.sites.get(place)
        if known is not None and site in known:
            return
        if self.strict:
            raise SitesGrew
        if known is None:
            known = self.sites[place] = set()
        known.add(site)
        self.version += 1
        relied = self.relied.get(place)
        if relied and (site is None or site[0] == "write" or relied & WRITES):
            raise SitesGrew

    def key(self, var, site, thread: int, ordinal: int, writes: bool, other_site, other: int,
            other_ordinal: int, other_writes: bool) -> tuple:
        """The race key of two accesses to ``var``: their sites, as merge_races folds them
        (a site without a line is its kind, thread name and step number), in order."""
        if site is None:
            site = ("write" if writes else "read", self.names[thread], ordinal)
        if other_site is None:
            other_site = ("write" if other_writes else "read", self.names[other], other_ordinal)
        return ("race", var, site, other_site) if site <= other_site else ("race", var, other_site, site)

    def is_dead(self, listed: int, accesses: list, others: int) -> bool:
        """Whether the epoch whose accesses are the list ``listed`` (ids into ``accesses``:
        ``(parent, site or step number, variable, writes)``) can show no race not seen,
        against every site the functions of the threads ``others`` (a mask: those that may
        still race with it) were seen to access."""
        if not self.drops:
            return False
        codes = self.codes_of.get(others)
        if codes is None:
            codes, rest = 0, others
            while rest:
                bit = rest & -rest
                rest ^= bit
                codes |= self.code_bits[bit.bit_length() - 1]
            self.codes_of[others] = codes
        known = self.dead.get((listed, codes))
        if known is True or known == self.version:
            return known is True
        sites, seen = self.sites, self.seen
        relied = []
        entry = listed
        while entry:
            parent, site, var, wrote = accesses[entry]
            if site.__class__ is int:  # its line is unknown: it is told apart by step number
                self.dead[listed, codes] = self.version
                return False
            rest = codes
            while rest:
                bit = rest & -rest
                rest ^= bit
                place = (var, bit.bit_length() - 1)
                reached = sites.get(place)
                if not reached or None in reached:
                    self.dead[listed, codes] = self.version
                    return False
                conflicts = False  # none: not dead either (a write not reached yet is likelier than none)
                for other in reached:
                    if wrote or other[0] == "write":
                        if (("race", var, site, other) if site <= other else ("race", var, other, site)) not in seen:
                            self.dead[listed, codes] = self.version
                            return False
                        conflicts = True
                if not conflicts:
                    self.dead[listed, codes] = self.version
                    return False
                relied.append((place, WRITES if wrote else READS))
            entry = parent
        for place, kind in relied:
            self.relied[place] = self.relied.get(place, 0) | kind
        self.dead[listed, codes] = True
        return True
