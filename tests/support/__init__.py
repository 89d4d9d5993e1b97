"""What more than one test suite uses: polling, engines, harnesses, clients, journals.

Test modules import from here and from their own suite's conftest fixtures, never from another
test module.
"""
