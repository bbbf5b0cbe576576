#include "dsl/schemas.hpp"

#include <map>
#include <string>

namespace mistral::dsl::schemas {

namespace {

// The named sub-schemas of mistral/lang/types.py and lang/v2/*.py, in
// Python's dict order; "#NAME" refers to an earlier entry. get_schema()
// merges the meta properties (name, version, description, tags) and adds
// "definitions": {} where Python does, so reprs of schemas match too.
constexpr const char* named_text = R"JSON({
"NONEMPTY_STRING": {"type": "string", "minLength": 1},
"UNIQUE_STRING_LIST": {"type": "array", "items": "#NONEMPTY_STRING", "uniqueItems": true, "minItems": 1},
"POSITIVE_INTEGER": {"type": "integer", "minimum": 0},
"POSITIVE_NUMBER": {"type": "number", "minimum": 0.0},
"EXPRESSION": {"oneOf": [{"type": "string", "pattern": "^({{(.*?)}})\\s*$"}, {"type": "string", "pattern": "^<%.*?%>\\s*$"}]},
"ANY": {"anyOf": [{"type": "array"}, {"type": "boolean"}, {"type": "integer"}, {"type": "number"}, {"type": "object"}, {"type": "string"}]},
"ANY_NULLABLE": {"anyOf": [{"type": "null"}, {"type": "array"}, {"type": "boolean"}, {"type": "integer"}, {"type": "number"}, {"type": "object"}, {"type": "string"}]},
"NONEMPTY_DICT": {"type": "object", "minProperties": 1, "patternProperties": {"^\\w+$": "#ANY_NULLABLE"}},
"ONE_KEY_DICT": {"type": "object", "minProperties": 1, "maxProperties": 1, "patternProperties": {"^\\w+$": "#ANY_NULLABLE"}},
"EXPRESSION_OR_POSITIVE_INTEGER": {"oneOf": ["#EXPRESSION", "#POSITIVE_INTEGER"]},
"EXPRESSION_OR_BOOLEAN": {"oneOf": ["#EXPRESSION", {"type": "boolean"}]},
"VERSION": {"anyOf": ["#NONEMPTY_STRING", "#POSITIVE_INTEGER", "#POSITIVE_NUMBER"]},
"WORKFLOW_TYPE": {"enum": ["reverse", "direct"]},
"STRING_OR_ONE_KEY_DICT": {"oneOf": ["#NONEMPTY_STRING", "#ONE_KEY_DICT"]},
"UNIQUE_STRING_OR_ONE_KEY_DICT_LIST": {"type": "array", "items": "#STRING_OR_ONE_KEY_DICT", "uniqueItems": true, "minItems": 1},
"META_PROPERTIES": {"name": "#NONEMPTY_STRING", "version": "#VERSION", "description": "#NONEMPTY_STRING", "tags": "#UNIQUE_STRING_LIST"},
"NEXT_TASK": {"oneOf": [{"type": "string", "pattern": "^\\S+$", "description": "Task name (e.g.: `task1`)"}, {"type": "string", "pattern": "^\\w+ \\w+=(.*)$", "description": "Task name with dict parameter (e.g.: `fail msg=\"test\"`, `fail msg=<% task() %>`)"}, {"type": "string", "pattern": "^\\w+\\(\\w+=(.*)\\)$", "description": "Task name with func parameter (e.g.: `fail(msg=\"test\")`, `fail(msg=<% task() %>)`)"}]},
"TASK_WITH_EXPRESSION": {"type": "object", "minProperties": 1, "maxProperties": 1, "patternProperties": {"^\\S+$": "#EXPRESSION", "^\\w+ \\w+=(.*)$": "#EXPRESSION", "^\\w+\\(\\w+=(.*)\\)$": "#EXPRESSION"}, "description": "All next task variants plus expression (e.g.: `task1: <% $.vm_id != null %>`, `fail(msg=\"test\"): <% $.vm_id != null %>`)."},
"LIST_OF_TASKS": {"type": "array", "items": {"oneOf": ["#NEXT_TASK", "#TASK_WITH_EXPRESSION"]}, "uniqueItems": true, "minItems": 1},
"PUBLISH": {"type": "object", "properties": {"branch": "#NONEMPTY_DICT", "global": "#NONEMPTY_DICT", "atomic": "#NONEMPTY_DICT", "name": "#NONEMPTY_STRING", "version": "#VERSION", "description": "#NONEMPTY_STRING", "tags": "#UNIQUE_STRING_LIST"}, "additionalProperties": false, "definitions": {}},
"ADVANCED_PUBLISHING_DICT": {"type": "object", "minProperties": 1, "properties": {"publish": "#PUBLISH", "next": {"oneOf": ["#NEXT_TASK", "#TASK_WITH_EXPRESSION", "#LIST_OF_TASKS"]}}, "additionalProperties": false},
"ON_CLAUSE": {"oneOf": ["#NEXT_TASK", "#TASK_WITH_EXPRESSION", "#LIST_OF_TASKS", "#ADVANCED_PUBLISHING_DICT"], "properties": {"name": "#NONEMPTY_STRING", "version": "#VERSION", "description": "#NONEMPTY_STRING", "tags": "#UNIQUE_STRING_LIST"}, "definitions": {}},
"RETRY": {"oneOf": [{"type": "object", "properties": {"count": {"oneOf": ["#EXPRESSION", "#POSITIVE_INTEGER"]}, "break-on": "#EXPRESSION", "continue-on": "#EXPRESSION", "delay": {"oneOf": ["#EXPRESSION", "#POSITIVE_INTEGER"]}}, "required": ["delay", "count"], "additionalProperties": false}, "#NONEMPTY_STRING"], "properties": {"name": "#NONEMPTY_STRING", "version": "#VERSION", "description": "#NONEMPTY_STRING", "tags": "#UNIQUE_STRING_LIST"}, "definitions": {}},
"POLICIES": {"type": "object", "properties": {"retry": "#RETRY", "wait-before": "#EXPRESSION_OR_POSITIVE_INTEGER", "wait-after": "#EXPRESSION_OR_POSITIVE_INTEGER", "timeout": "#EXPRESSION_OR_POSITIVE_INTEGER", "pause-before": "#EXPRESSION_OR_BOOLEAN", "concurrency": "#EXPRESSION_OR_POSITIVE_INTEGER", "fail-on": "#EXPRESSION_OR_BOOLEAN", "name": "#NONEMPTY_STRING", "version": "#VERSION", "description": "#NONEMPTY_STRING", "tags": "#UNIQUE_STRING_LIST"}, "additionalProperties": false, "definitions": {}},
"TASK_DEFAULTS": {"type": "object", "properties": {"retry": "#RETRY", "wait-before": "#EXPRESSION_OR_POSITIVE_INTEGER", "wait-after": "#EXPRESSION_OR_POSITIVE_INTEGER", "timeout": "#EXPRESSION_OR_POSITIVE_INTEGER", "pause-before": "#EXPRESSION_OR_BOOLEAN", "concurrency": "#EXPRESSION_OR_POSITIVE_INTEGER", "fail-on": "#EXPRESSION_OR_BOOLEAN", "on-complete": "#ON_CLAUSE", "on-success": "#ON_CLAUSE", "on-error": "#ON_CLAUSE", "safe-rerun": "#EXPRESSION_OR_BOOLEAN", "requires": {"oneOf": ["#NONEMPTY_STRING", "#UNIQUE_STRING_LIST"]}, "name": "#NONEMPTY_STRING", "version": "#VERSION", "description": "#NONEMPTY_STRING", "tags": "#UNIQUE_STRING_LIST"}, "additionalProperties": false, "definitions": {}},
"TASK_COMMON": {"action": "#NONEMPTY_STRING", "workflow": "#NONEMPTY_STRING", "input": {"oneOf": ["#NONEMPTY_DICT", "#NONEMPTY_STRING"]}, "with-items": {"oneOf": ["#NONEMPTY_STRING", "#UNIQUE_STRING_LIST"]}, "publish": "#NONEMPTY_DICT", "publish-on-error": "#NONEMPTY_DICT", "retry": "#RETRY", "wait-before": "#EXPRESSION_OR_POSITIVE_INTEGER", "wait-after": "#EXPRESSION_OR_POSITIVE_INTEGER", "timeout": "#EXPRESSION_OR_POSITIVE_INTEGER", "pause-before": "#EXPRESSION_OR_BOOLEAN", "concurrency": "#EXPRESSION_OR_POSITIVE_INTEGER", "fail-on": "#EXPRESSION_OR_BOOLEAN", "target": "#NONEMPTY_STRING", "keep-result": "#EXPRESSION_OR_BOOLEAN", "safe-rerun": "#EXPRESSION_OR_BOOLEAN"},
"TASK_ANYOF": [{"not": {"type": "object", "required": ["action", "workflow"]}}, {"oneOf": [{"type": "object", "required": ["action"]}, {"type": "object", "required": ["workflow"]}]}],
"WF_PROPERTIES": {"tasks": {"type": "object", "minProperties": 1, "patternProperties": {"^\\w+$": "#NONEMPTY_DICT"}}, "type": "#WORKFLOW_TYPE", "task-defaults": "#NONEMPTY_DICT", "input": "#UNIQUE_STRING_OR_ONE_KEY_DICT_LIST", "output": "#NONEMPTY_DICT", "output-on-error": "#NONEMPTY_DICT", "vars": "#NONEMPTY_DICT", "tags": "#UNIQUE_STRING_LIST"}
})JSON";

json resolve(const json& v, const json& named) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > 1 && s[0] == '#' && named.contains(s.substr(1)))
      return resolve(named[s.substr(1)], named);
    return v;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v)
      out.push_back(resolve(x, named));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it)
      out[it.key()] = resolve(*it, named);
    return out;
  }
  return v;
}

const json& named() {
  static const json n = [] {
    json raw = json::parse(named_text);
    json out = json::object();
    for (auto it = raw.begin(); it != raw.end(); ++it)
      out[it.key()] = resolve(*it, out); // entries only refer to earlier ones
    return out;
  }();
  return n;
}

const json& get(const char* name) {
  return named()[name];
}

json task(const char* type_value, const json& extra_properties) {
  json props = json::object();
  props["type"] = json{{"enum", json::array({type_value})}};
  for (auto it = get("TASK_COMMON").begin(); it != get("TASK_COMMON").end(); ++it)
    props[it.key()] = *it;
  for (auto it = extra_properties.begin(); it != extra_properties.end(); ++it)
    props[it.key()] = *it;
  for (auto it = get("META_PROPERTIES").begin(); it != get("META_PROPERTIES").end(); ++it)
    props[it.key()] = *it;
  json s = json::object();
  s["type"] = "object";
  s["properties"] = props;
  s["additionalProperties"] = false;
  s["anyOf"] = get("TASK_ANYOF");
  s["required"] = json::array({"name", "version"});
  s["definitions"] = json::object();
  return s;
}

json list_schema() {
  json s = json::object();
  s["type"] = "object";
  s["properties"] = json{{"version", get("VERSION")}};
  s["additionalProperties"] = get("NONEMPTY_DICT");
  s["required"] = json::array({"version"});
  s["definitions"] = json::object();
  return s;
}

json wb_section() {
  json s = json::object();
  s["type"] = "object";
  s["minProperties"] = 1;
  json pp = json::object();
  pp["^version$"] = json{{"enum", json::array({"2.0", 2.0})}};
  pp["^(?!version$)[\\w-]+$"] = get("ANY");
  s["patternProperties"] = pp;
  s["additionalProperties"] = false;
  return s;
}

} // namespace

const json& workflow_list() {
  static const json s = list_schema();
  return s;
}

const json& action_list() {
  return workflow_list();
}

const json& workbook() {
  static const json s = [] {
    json props = json::object();
    json version = json::object();
    version["enum"] = json::array({"2.0", 2.0});
    version["anyOf"] = get("VERSION")["anyOf"];
    props["version"] = version;
    props["actions"] = wb_section();
    props["workflows"] = wb_section();
    props["name"] = get("NONEMPTY_STRING");
    props["description"] = get("NONEMPTY_STRING");
    props["tags"] = get("UNIQUE_STRING_LIST");
    json s = json::object();
    s["type"] = "object";
    s["properties"] = props;
    s["additionalProperties"] = false;
    // Python builds this list from a set; the reference server reported
    // 'version' first, so that order is kept.
    s["required"] = json::array({"version", "name"});
    s["definitions"] = json::object();
    return s;
  }();
  return s;
}

const json& action() {
  static const json s = [] {
    json props = json::object();
    props["base"] = get("NONEMPTY_STRING");
    props["base-input"] = get("NONEMPTY_DICT");
    props["input"] = get("UNIQUE_STRING_OR_ONE_KEY_DICT_LIST");
    props["output"] = get("ANY_NULLABLE");
    for (auto it = get("META_PROPERTIES").begin(); it != get("META_PROPERTIES").end(); ++it)
      props[it.key()] = *it;
    json s = json::object();
    s["type"] = "object";
    s["properties"] = props;
    s["required"] = json::array({"base", "name", "version"});
    s["additionalProperties"] = false;
    s["definitions"] = json::object();
    return s;
  }();
  return s;
}

const json& workflow() {
  static const json s = [] {
    json s = json::object();
    s["properties"] = get("WF_PROPERTIES");
    s["required"] = json::array({"tasks"});
    s["definitions"] = json::object();
    return s;
  }();
  return s;
}

const json& direct_task() {
  static const json s = [] {
    json extra = json::object();
    extra["join"] =
      json{{"oneOf", json::array({json{{"enum", json::array({"all", "one"})}}, get("POSITIVE_INTEGER")})}};
    extra["on-complete"] = get("ON_CLAUSE");
    extra["on-success"] = get("ON_CLAUSE");
    extra["on-error"] = get("ON_CLAUSE");
    return task("direct", extra);
  }();
  return s;
}

const json& reverse_task() {
  static const json s = [] {
    json extra = json::object();
    extra["requires"] = json{{"oneOf", json::array({get("NONEMPTY_STRING"), get("UNIQUE_STRING_LIST")})}};
    return task("reverse", extra);
  }();
  return s;
}

const json& task_defaults() {
  return get("TASK_DEFAULTS");
}
const json& policies() {
  return get("POLICIES");
}
const json& retry() {
  return get("RETRY");
}
const json& on_clause() {
  return get("ON_CLAUSE");
}
const json& publish() {
  return get("PUBLISH");
}

} // namespace mistral::dsl::schemas
