"""The scenario library: classroom threading lessons, each a module of ``Scenario`` objects.

Run one with ``explorer run scenarios/counter.py``; every module explains what it teaches.
"""
