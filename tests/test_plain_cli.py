"""A file of plain threading code without a scenario: run, list and crosscheck never pass it
in silence; they say, in one line, the one line to add, with the file's own names."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

NOTEBOOK_LIKE = """
    import concurrent.futures
    import threading
    import time


    class FakeDatabase:
        def __init__(self):
            self.value = 0
            self._lock = threading.Lock()

        def update(self, name):
            local_copy = self.value
            local_copy += 1
            time.sleep(0.1)
            self.value = local_copy


    class Unused:
        pass


    class Worker(threading.Thread):
        pass


    def thread_function(name):
        time.sleep(2)


    def update_cell():
        database = FakeDatabase()
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as executor:
            for index in range(2):
                executor.submit(database.update, index)
        return database.value
"""

WITH_MAIN = """
    import threading


    class Counter:
        def __init__(self):
            self.value = 0

        def increment(self):
            self.value = self.value + 1


    def helper():
        threading.Thread(target=print).start()


    def main():
        counter = Counter()
        workers = [threading.Thread(target=counter.increment) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return counter.value
"""


def explorer(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


@pytest.mark.parametrize("command", ["run", "list", "crosscheck"])
def test_a_threading_file_without_a_scenario_exits_five_with_the_line_to_add(tmp_path, command):
    path = write(tmp_path, "notebook.py", NOTEBOOK_LIKE)
    done = explorer(command, path)
    assert done.returncode == 5 and done.stdout == "", done.stderr
    assert done.stderr.count("\n") == 1 and str(path) in done.stderr
    assert done.stderr.rstrip().endswith(
        'add this line at its end (and import explorer at its top): '
        'scenario = explorer.program("update_cell", update_cell, track=[FakeDatabase])')


def test_a_function_named_main_is_preferred_and_tracks_the_classes_it_makes(tmp_path):
    done = explorer("run", write(tmp_path, "counting.py", WITH_MAIN))
    assert done.returncode == 5
    assert done.stderr.rstrip().endswith('scenario = explorer.program("counting", main, track=[Counter])')


def test_the_line_the_hint_shows_makes_the_file_a_scenario_that_explores(tmp_path):
    path = write(tmp_path, "counting.py", WITH_MAIN)
    line = explorer("list", path).stderr.rstrip().rpartition(": ")[2]
    path.write_text("import explorer\n" + path.read_text() + "\n" + line + "\n")
    listed = explorer("list", path)
    assert listed.returncode == 0 and listed.stdout.startswith(f"{path}::scenario  'counting'"), listed.stderr
    ran = explorer("run", path, "-q")
    assert ran.returncode in (0, 1) and "lost-update" in ran.stdout, ran.stdout + ran.stderr


def test_a_file_that_already_imports_program_is_told_to_call_it(tmp_path):
    path = write(tmp_path, "counting.py", "from explorer import program\n" + textwrap.dedent(WITH_MAIN))
    done = explorer("run", path)
    assert done.returncode == 5
    assert done.stderr.rstrip().endswith('add this line at its end: '
                                         'scenario = program("counting", main, track=[Counter])')


def test_threads_started_at_import_get_both_ways_to_write_a_scenario(tmp_path):
    path = write(tmp_path, "globals.py", """
        import threading
        counter = 0
        def work():
            global counter
            counter += 1
        threads = [threading.Thread(target=work) for _ in range(2)]
    """)
    done = explorer("crosscheck", path)
    assert done.returncode == 5 and done.stderr.count("\n") == 1
    assert 'put what starts its threads in a function main()' in done.stderr
    assert 'scenario = explorer.program("globals", main)' in done.stderr and "yields read('x')" in done.stderr


def test_a_file_that_only_mentions_threading_gets_no_threading_hint(tmp_path):
    path = write(tmp_path, "notes.py", '"""Notes on threading and concurrent.futures."""\nx = 1\n')
    done = explorer("run", path)
    assert done.returncode == 5
    assert "uses threading" not in done.stderr and "no Scenario object at module level" in done.stderr
