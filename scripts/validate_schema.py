#!/usr/bin/env python3
"""Validate workflow files against bucketflow's JSON Schema (`bucketflow schema`).

usage: validate_schema.py SCHEMA.json FILE...
Prints one line per file: "valid FILE" or "invalid FILE: reason" (or
"unreadable FILE: reason" when PyYAML cannot read it). Exit 0.
"""
import json
import sys

import jsonschema
import yaml


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for path in sys.argv[2:]:
        try:
            with open(path, "rb") as handle:
                document = yaml.safe_load(handle)
        except Exception as error:  # the YAML itself is broken: not the schema's business
            print(f"unreadable {path}: {str(error).splitlines()[0]}")
            continue
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        if errors:
            print(f"invalid {path}: {errors[0].message[:200]}")
        else:
            print(f"valid {path}")


if __name__ == "__main__":
    main()
