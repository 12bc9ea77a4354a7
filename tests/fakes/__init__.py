"""Test doubles that speak real protocols over loopback: a fake Slack Web API, Slack-signed
inbound requests and a spawned ``redis-server``. Nothing here mocks phonebot's own code."""
