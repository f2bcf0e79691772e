"""Tests of the external pager clients and their HTTP stand-ins."""
