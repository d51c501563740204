"""The test suite: a package, so that another library's site-packages "tests" cannot
shadow it."""
