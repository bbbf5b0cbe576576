#!/usr/bin/python3
"""Writes config/options_upstream.cpp: every option of the namespaces Mistral 15's
tools/config/config-generator.mistral.conf lists, as oslo-config-generator sees them
(needs Debian's python3-mistral). Usage, from the repo root:
  config/tools/gen_upstream_options.py > config/options_upstream.cpp && clang-format -i config/options_upstream.cpp
"""
from oslo_config import generator
from mistral import config as mconf

NAMESPACES = ['mistral.config', 'oslo.db', 'oslo.messaging', 'oslo.middleware.cors',
              'oslo.middleware.healthcheck', 'oslo.middleware.http_proxy_to_wsgi',
              'keystonemiddleware.auth_token', 'oslo.log', 'oslo.policy',
              'oslo.service.sslutils']

KINDS = {
    'MultiString': 'multi_string', 'String': 'string', 'Integer': 'integer',
    'Float': 'floating', 'Boolean': 'boolean', 'List': 'list', 'Dict': 'dict',
    'Port': 'port', 'HostAddress': 'host_address', 'Hostname': 'hostname',
    'IPAddress': 'ip_address', 'URI': 'uri',
}


def c(s):
    """A C++ string literal, or nullptr for None."""
    if s is None:
        return 'nullptr'
    s = str(s)
    out = s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n').replace('\t', '\\t')
    return '"' + out + '"'


def kind_of(opt):
    plain = {str: 'string', int: 'integer', float: 'floating', bool: 'boolean'}
    if isinstance(opt.type, type) and opt.type in plain:
        return plain[opt.type]
    for cls in type(opt.type).__mro__:
        if cls.__name__ in KINDS:
            return KINDS[cls.__name__]
    raise SystemExit('unknown type %r for %s' % (opt.type, opt.dest))


def value_text(opt, v):
    """The default as config-file text that parses back to it."""
    if v is None:
        return None
    k = kind_of(opt)
    if k == 'boolean':
        return 'true' if v else 'false'
    if k == 'list':
        return ','.join(str(x) for x in v)
    if k == 'dict':
        return ','.join('%s:%s' % i for i in sorted(v.items()))
    if k == 'multi_string':
        return '\n'.join(str(x) for x in v)
    return str(v)


def summary(opt):
    h = opt.help or ''
    parts = h.split('\n\n')
    s = parts[0].rstrip(':').rstrip('.')
    if len(parts) > 1:
        s += '. For more information, refer to the documentation.'
    return s


def main():
    groups = generator._get_groups(generator._list_opts(NAMESPACES))
    # [legacy_action_provider] is registered by mistral.config but missing from list_opts().
    groups['legacy_action_provider'] = {
        'object': None, 'namespaces': [('mistral.config', mconf.legacy_action_provider_opts)]}
    order = ['DEFAULT'] + sorted(g for g in groups if g != 'DEFAULT')
    out = []
    decls = []
    n = 0
    for gname in order:
        gdata = groups[gname]
        for ns, opts in sorted(gdata['namespaces'], key=lambda x: x[0]):
            for opt in sorted(opts, key=lambda o: o.advanced):
                n += 1
                kind = kind_of(opt)
                choices = getattr(opt.type, 'choices', None) or {}
                ch = 'nullptr, 0'
                if choices:
                    decls.append('const upstream_choice choices_%d[] = {%s};' % (n, ', '.join(
                        '{%s, %s}' % (c(k), c(d)) for k, d in choices.items())))
                    ch = 'choices_%d, %d' % (n, len(choices))
                # A None name means the same name in another group: an alias for
                # parsing that oslo's sample does not print.
                deps = [(d.group or gname, d.name) for d in opt.deprecated_opts
                        if d.name is None or '-' not in d.name]
                dp = 'nullptr, 0'
                if deps:
                    decls.append('const upstream_alias aliases_%d[] = {%s};' % (n, ', '.join(
                        '{%s, %s}' % (c(g), c(nm)) for g, nm in deps)))
                    dp = 'aliases_%d, %d' % (n, len(deps))
                if hasattr(opt.type, 'format_defaults'):
                    sample = opt.type.format_defaults(opt.default, opt.sample_default)
                else:
                    sample = generator._format_defaults(opt)
                flags = []
                if opt.mutable: flags.append('flag_mutable')
                if opt.advanced: flags.append('flag_advanced')
                if opt.deprecated_for_removal: flags.append('flag_deprecated_for_removal')
                if opt.secret: flags.append('flag_secret')
                if opt.sample_default: flags.append('flag_sample_default_note')
                if getattr(opt.type, 'bounds', False): flags.append('flag_bounds')
                if getattr(opt.type, 'ignore_case', False): flags.append('flag_ignore_case')
                fl = ' | '.join(flags) or '0'
                mn = getattr(opt.type, 'min', None)
                mx = getattr(opt.type, 'max', None)
                out.append('  {%s, %s, %s, opt_kind::%s, %s,\n   %s,\n   %s,\n   %s, %s, %s, %s, %s, %s, %s,\n   %s},' % (
                    c(ns), c(gname), c(opt.dest), kind, c(generator._format_type_name(opt.type)),
                    c(value_text(opt, opt.default)), c('\n'.join(sample)),
                    c(mn), c(mx), ch, dp, fl, c(opt.deprecated_since), c(opt.deprecated_reason),
                    c(summary(opt))))
    ghelps = []
    for gname in order:
        obj = groups[gname]['object']
        if obj is not None and obj.help:
            ghelps.append('  {%s, %s},' % (c(gname), c(obj.help)))
    print('// Generated by config/tools/gen_upstream_options.py from Debian\'s python3-mistral 15')
    print('// (oslo.config generator namespaces of Mistral\'s config-generator.mistral.conf). Do not edit.')
    print('#include "config/upstream.hpp"\n')
    print('namespace mistral::config::detail {\nnamespace {\n')
    print('\n'.join(decls))
    print('\nconst upstream_option options[] = {')
    print('\n'.join(out))
    print('};\n\nconst upstream_group_help group_helps[] = {')
    print('\n'.join(ghelps) if ghelps else '  {nullptr, nullptr},')
    print('};\n\n} // namespace\n')
    print('std::span<const upstream_option> upstream_options() { return options; }\n')
    print('std::span<const upstream_group_help> upstream_group_helps() { return group_helps; }\n')
    print('} // namespace mistral::config::detail')


main()
