#!/usr/bin/env python3
"""Validate a multi-document YAML stream printed by `bucketflow export`.

Usage: validate_argo.py SCHEMA.json < stream.yaml

Each document is read with PyYAML (YAML 1.1 rules, so an unquoted `on` or
`0755` would come back as a boolean or a number) and checked:

- Argo `Workflow` / `CronWorkflow`: against Argo's own JSON schema (Draft 7,
  `#/definitions/io.argoproj.workflow.v1alpha1.<Kind>`), plus fields the
  schema does not define (it allows any), plus the rules Argo's controller
  applies to a DAG (names, references, depends vs dependencies, continueOn).
- `ConfigMap` and `batch/v1 CronJob`: required fields and shapes checked here.

Prints one JSON object on stdout: {"documents": [...], "errors": [...]}.
Exit status: 0 valid, 1 invalid, 3 when PyYAML or jsonschema is missing.
"""
import json
import re
import sys

try:
    import yaml
    import jsonschema
except ImportError as error:  # pragma: no cover
    print(json.dumps({"missing": str(error)}))
    sys.exit(3)

FIELD_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
TASK_RESULT = re.compile(r"([a-zA-Z0-9][-a-zA-Z0-9]*?)\.([A-Z][a-zA-Z]+)")
RESULTS = {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}


def deref(root, node):
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        node = root
        for part in path:
            node = node[part]
    return node


def unknown_fields(root, node, instance, path, errors):
    node = deref(root, node)
    if not isinstance(node, dict):
        return
    if isinstance(instance, dict):
        properties = node.get("properties")
        additional = node.get("additionalProperties")
        for key, value in instance.items():
            if properties is not None and key in properties:
                unknown_fields(root, properties[key], value, path + [key], errors)
            elif isinstance(additional, dict):
                unknown_fields(root, additional, value, path + [key], errors)
            elif properties is not None and additional is None:
                errors.append("/".join(map(str, path + [key])) + ": field not in Argo's schema")
    elif isinstance(instance, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(instance):
            unknown_fields(root, node["items"], item, path + [index], errors)


def check_metadata(meta, errors, max_name=253, need_name=True):
    if not isinstance(meta, dict):
        errors.append("metadata: missing")
        return
    name = meta.get("name")
    generate = meta.get("generateName")
    if need_name and name is None and generate is None:
        errors.append("metadata: needs name or generateName")
    if name is not None and (not isinstance(name, str) or not DNS_SUBDOMAIN.match(name) or len(name) > max_name):
        errors.append(f"metadata.name {name!r}: not a valid name of at most {max_name} characters")
    if generate is not None and (not isinstance(generate, str) or not DNS_SUBDOMAIN.match(generate.rstrip("-") or "x")):
        errors.append(f"metadata.generateName {generate!r}: invalid")
    namespace = meta.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not DNS_LABEL.match(namespace)):
        errors.append(f"metadata.namespace {namespace!r}: invalid")
    for key, value in (meta.get("labels") or {}).items():
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            errors.append(f"metadata.labels.{key} {value!r}: not a valid label value")
    for key, value in (meta.get("annotations") or {}).items():
        if not isinstance(value, str):
            errors.append(f"metadata.annotations.{key}: not a string")


def check_pod(volumes, containers, where, errors):
    names = [v.get("name") for v in volumes or []]
    if len(names) != len(set(names)):
        errors.append(f"{where}: duplicate volume names {names}")
    for name in names:
        if not isinstance(name, str) or not DNS_LABEL.match(name) or len(name) > 63:
            errors.append(f"{where}: volume name {name!r} is not a DNS label")
    for container in containers:
        if not isinstance(container.get("image"), str) or not container["image"]:
            errors.append(f"{where}: container without image")
        for key in ("command", "args"):
            for item in container.get(key) or []:
                if not isinstance(item, str):
                    errors.append(f"{where}: {key} item {item!r} is not a string")
        for mount in container.get("volumeMounts") or []:
            if mount.get("name") not in names:
                errors.append(f"{where}: volumeMount {mount.get('name')!r} names no volume")
            if not str(mount.get("mountPath", "")).startswith("/"):
                errors.append(f"{where}: volumeMount path {mount.get('mountPath')!r} is not absolute")
        for env in container.get("env") or []:
            if not isinstance(env.get("value", ""), str):
                errors.append(f"{where}: env {env.get('name')} value is not a string")
        for source in container.get("envFrom") or []:
            if "secretRef" in source and not DNS_SUBDOMAIN.match(str(source["secretRef"].get("name", ""))):
                errors.append(f"{where}: envFrom secretRef without a valid name")


ALLOWED_VARIABLES = re.compile(r"^(workflow\.name|workflow\.creationTimestamp|inputs\.parameters\.[-a-zA-Z0-9_]+)$")


def strings(value, path):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, path + [key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, path + [index])


def check_argo(root, kind, document, errors):
    # Argo substitutes {{...}} in every string and fails on unknown ones.
    for path, text in strings(document, []):
        for variable in re.findall(r"\{\{(.*?)\}\}", text):
            if not ALLOWED_VARIABLES.match(variable.strip()):
                errors.append("/".join(map(str, path)) + f": {{{{{variable}}}}} is not a variable Argo can resolve here")
    definition = {"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}", "definitions": root["definitions"]}
    validator = jsonschema.Draft7Validator(definition)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        errors.append("/".join(map(str, error.absolute_path)) + ": " + error.message)
    unknown_fields(root, definition, document, [], errors)
    check_metadata(document.get("metadata"), errors, max_name=52 if kind == "CronWorkflow" else 253)
    spec = document.get("spec") or {}
    if kind == "CronWorkflow":
        if spec.get("concurrencyPolicy") not in (None, "Allow", "Forbid", "Replace"):
            errors.append(f"spec.concurrencyPolicy {spec.get('concurrencyPolicy')!r}")
        spec = spec.get("workflowSpec") or {}
    templates = spec.get("templates") or []
    template_names = [t.get("name") for t in templates]
    if len(template_names) != len(set(template_names)):
        errors.append("duplicate template names")
    if spec.get("entrypoint") not in template_names:
        errors.append(f"entrypoint {spec.get('entrypoint')!r} names no template")
    for template in templates:
        name = template.get("name", "")
        if not FIELD_NAME.match(name) or len(name) > 128:
            errors.append(f"template name {name!r} invalid")
        if "container" in template:
            check_pod(spec.get("volumes"), [template["container"]], f"template {name}", errors)
            args = template["container"].get("args") or []
            for match in re.findall(r"\{\{([^}]*)\}\}", " ".join(map(str, args))):
                if match.startswith("inputs.parameters."):
                    declared = [p.get("name") for p in (template.get("inputs") or {}).get("parameters") or []]
                    if match.split(".", 2)[2] not in declared:
                        errors.append(f"template {name}: {{{{{match}}}}} is not an input parameter")
                elif match not in ("workflow.name", "workflow.creationTimestamp"):  # Argo globals the export uses
                    errors.append(f"template {name}: unexpected template variable {{{{{match}}}}}")
        dag = template.get("dag")
        if dag is None:
            continue
        tasks = dag.get("tasks") or []
        task_names = [t.get("name") for t in tasks]
        if len(task_names) != len(set(task_names)):
            errors.append(f"template {name}: duplicate task names")
        uses_depends = any("depends" in t for t in tasks)
        for task in tasks:
            tname = task.get("name", "")
            if not FIELD_NAME.match(tname) or len(tname) > 128 or tname[:1].isdigit():
                errors.append(f"task name {tname!r} invalid")
            if task.get("template") not in template_names:
                errors.append(f"task {tname}: template {task.get('template')!r} does not exist")
            if uses_depends and "dependencies" in task:
                errors.append(f"task {tname}: 'dependencies' in a DAG that uses 'depends'")
            if uses_depends and "continueOn" in task:
                errors.append(f"task {tname}: 'continueOn' in a DAG that uses 'depends'")
            for dependency in task.get("dependencies") or []:
                if dependency not in task_names:
                    errors.append(f"task {tname}: dependency {dependency!r} does not exist")
            depends = task.get("depends")
            if depends is not None:
                stripped = TASK_RESULT.sub("X", depends)
                if re.search(r"[^X()&|! ]", stripped):
                    errors.append(f"task {tname}: depends {depends!r} has operands without a result")
                for dependency, result in TASK_RESULT.findall(depends):
                    if dependency not in task_names:
                        errors.append(f"task {tname}: depends on unknown task {dependency!r}")
                    if result not in RESULTS:
                        errors.append(f"task {tname}: unknown task result {result!r}")
            target = next((t for t in templates if t.get("name") == task.get("template")), {})
            declared = {p.get("name") for p in (target.get("inputs") or {}).get("parameters") or []}
            given = {p.get("name") for p in (task.get("arguments") or {}).get("parameters") or []}
            if declared != given:
                errors.append(f"task {tname}: arguments {sorted(given)} do not match the template's inputs {sorted(declared)}")


def check_config_map(document, errors):
    if document.get("apiVersion") != "v1":
        errors.append("ConfigMap apiVersion must be v1")
    check_metadata(document.get("metadata"), errors)
    data = document.get("data")
    if not isinstance(data, dict) or not data:
        errors.append("ConfigMap data: missing")
        return
    for key, value in data.items():
        if not isinstance(key, str) or not CONFIG_KEY.match(key):
            errors.append(f"ConfigMap key {key!r} invalid")
        if not isinstance(value, str):
            errors.append(f"ConfigMap data.{key} is not a string")


def check_cron_job(document, errors):
    if document.get("apiVersion") != "batch/v1":
        errors.append("CronJob apiVersion must be batch/v1")
    check_metadata(document.get("metadata"), errors, max_name=52)
    spec = document.get("spec") or {}
    if not isinstance(spec.get("schedule"), str) or not spec["schedule"]:
        errors.append("CronJob spec.schedule: missing")
    if "timeZone" in spec and not isinstance(spec["timeZone"], str):
        errors.append("CronJob spec.timeZone: not a string")
    if spec.get("concurrencyPolicy") not in (None, "Allow", "Forbid", "Replace"):
        errors.append(f"CronJob spec.concurrencyPolicy {spec.get('concurrencyPolicy')!r}")
    pod = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        errors.append("CronJob pod restartPolicy must be Never or OnFailure")
    containers = pod.get("containers") or []
    if not containers:
        errors.append("CronJob pod has no containers")
    check_pod(pod.get("volumes"), containers, "CronJob pod", errors)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as handle:
        root = json.load(handle)
    try:
        documents = list(yaml.safe_load_all(sys.stdin.read()))
    except yaml.YAMLError as error:
        print(json.dumps({"documents": [], "errors": [{"document": -1, "kind": None, "error": f"not valid YAML: {error}"}]}))
        return 1
    errors = []
    for index, document in enumerate(documents):
        found = []
        if not isinstance(document, dict):
            found.append("not a mapping")
        else:
            kind = document.get("kind")
            if kind in ("Workflow", "CronWorkflow"):
                check_argo(root, kind, document, found)
            elif kind == "ConfigMap":
                check_config_map(document, found)
            elif kind == "CronJob":
                check_cron_job(document, found)
            else:
                found.append(f"unexpected kind {kind!r}")
        for message in found:
            errors.append({"document": index, "kind": (document or {}).get("kind") if isinstance(document, dict) else None, "error": message})
    print(json.dumps({"documents": documents, "errors": errors}, default=str))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
