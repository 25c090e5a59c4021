"""The site agent: telemetry in, signed epoch reports out, nothing lost and nothing posted twice."""
