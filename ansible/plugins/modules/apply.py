#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: apply
short_description: Converge a GPU node to a gpuprov profile
description:
  - Runs C(gpuprov apply PROFILE --yes --json --detailed-exitcodes) - the exact kernel,
    driver, CUDA and fabric manager versions the profile resolves to on this node, held, with
    the managed files written and the new kernel arranged as a boot-once entry.
  - It never reboots. When C(reboot_required) is returned, reboot the node (for instance with
    M(ansible.builtin.reboot)), then wait for the verdict with M(gpuprov.fleet.verify).
  - A plan that needs a reboot enters maintenance first where the profile's C(maintenance)
    section asks for it (a Slurm drain, a Kubernetes cordon, hooks) - gpuprov-profile(5).
  - In check mode it runs C(gpuprov plan PROFILE --json) instead and changes nothing; with
    C(--diff) it shows the before and after of every file the plan would write.
version_added: 0.1.0
author:
  - gpuprov developers
extends_documentation_fragment:
  - gpuprov.fleet.target
options:
  profile:
    description:
      - The profile's name, shipped (C(/usr/share/gpuprov/profiles)) or the site's
        (C(/etc/gpuprov/profiles) in the root).
    type: str
    required: true
  profiles:
    description:
      - The shipped profiles' directory (C(gpuprov --profiles)), instead of gpuprov's own.
    type: path
  bundle:
    description:
      - Install from this signed offline bundle, a URL (http, https) or a file on the node
        (C(apply --bundle)). Not used in check mode.
    type: str
  mirror:
    description:
      - Other URLs of the same bundle, tried in order when the first fails (C(apply --mirror)).
    type: list
    elements: str
  refresh:
    description:
      - Refresh the repository metadata before resolving; C(false) uses what the node has
        (C(apply --no-refresh)).
    type: bool
    default: true
  retry_failed:
    description:
      - A kernel that verify rolled back on this node may be chosen again (C(--retry-failed)).
    type: bool
    default: false
  strict:
    description:
      - A GPU the knowledge has no entry for refuses the apply (C(--strict)).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: C(gpuprov plan --json); C(changed) is whether the plan has actions.
  diff_mode:
    support: full
    description: In check mode, the before and after of every file the plan writes.
seealso:
  - module: gpuprov.fleet.verify
  - module: ansible.builtin.reboot
'''

EXAMPLES = r'''
- name: Converge the node to h100-nvlink
  gpuprov.fleet.apply:
    profile: h100-nvlink
  register: gpuprov

- name: Reboot into the new kernel when gpuprov asks for it
  ansible.builtin.reboot:
  when: gpuprov.reboot_required

- name: From a signed offline bundle, with a second server
  gpuprov.fleet.apply:
    profile: h100-nvlink
    bundle: https://bundles.example/h100-nvlink.tar
    mirror:
      - https://bundles2.example/h100-nvlink.tar
'''

RETURN = r'''
changed:
  description: Whether apply changed the node; in check mode, whether the plan has actions.
  returned: always
  type: bool
reboot_required:
  description: The node must reboot into the new kernel for the stack to be complete.
  returned: success
  type: bool
stack:
  description: The stack the node is converged to (in check mode, the one the plan resolves).
  returned: success
  type: dict
  contains:
    kernel:
      description: The kernel release.
      type: str
      sample: 6.8.0-49-generic
    driver:
      description: The NVIDIA driver version, or null for a profile without one.
      type: str
      sample: 580.95.05
    cuda:
      description: The CUDA toolkit version, or null for a profile without one.
      type: str
      sample: 13.0.2
actions:
  description:
    - What apply did, one line each (its JSON's C(done)).
    - In check mode, the plan's actions, each an object with C(action), C(target), C(reason)
      and C(detail) as C(plan --json) prints them.
  returned: success
  type: list
  elements: raw
  sample: ["installed cuda-toolkit-13-0 13.0.2-1 (apt)", "wrote /etc/modprobe.d/gpuprov.conf"]
pending:
  description: What is left to do by others (the reboot, a bootloader tool missing in the root).
  returned: success, not in check mode
  type: list
  elements: str
msg:
  description: What happened, in a sentence.
  returned: always
  type: str
refused:
  description:
    - True when gpuprov refused (exit 3) and changed nothing; the task fails.
  returned: failure
  type: bool
reasons:
  description: Why gpuprov refused.
  returned: when refused
  type: list
  elements: str
step:
  description: The step of apply's journal at which a failed apply (exit 1) stopped.
  returned: when apply failed
  type: str
  sample: install (apt)
error:
  description: gpuprov's error for a refusal or a failure.
  returned: failure
  type: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuprov.fleet.plugins.module_utils.gpuprov import (
    EXIT_CHANGED, EXIT_CHANGED_REBOOT, EXIT_FAILURE, EXIT_OK, EXIT_REFUSED, Gpuprov, target_args)


def resolve_options(p):
    """The options plan and apply share: how the stack is resolved."""
    args = []
    if p['retry_failed']:
        args.append('--retry-failed')
    if p['strict']:
        args.append('--strict')
    return args


def stack_of(obj):
    """kernel, driver and cuda of a plan's stack or of status's applied record."""
    obj = obj or {}
    return dict(kernel=obj.get('kernel'), driver=obj.get('driver'), cuda=obj.get('cuda'))


def file_diff(action):
    """A file action's whole-file line diff (plan --json's detail: each line prefixed ' ',
    '-' or '+') as Ansible's before and after."""
    before, after = [], []
    for line in (action.get('detail') or '').splitlines(True):
        mark, text = line[:1], line[1:]
        if mark in (' ', '-'):
            before.append(text)
        if mark in (' ', '+'):
            after.append(text)
    return dict(before_header=action['target'], after_header=action['target'],
                before=''.join(before), after=''.join(after))


def refused(module, doc, argv):
    """A refusal fails the task with its reasons: the plan's, or apply's error."""
    reasons = doc.get('reasons') or ([doc['error']] if doc.get('error') else [])
    module.fail_json(msg='gpuprov refused %s, nothing changed: %s' % (module.params['profile'], '; '.join(reasons)),
                     refused=True, reasons=reasons, error=doc.get('error'), cmd=argv, changed=False)


def check(module, gp):
    """Check mode: the plan, and with --diff the files it would write."""
    p = module.params
    args = ['plan', p['profile'], '--json'] + resolve_options(p)
    rc, doc, err = gp.run_json(args, (EXIT_OK, EXIT_REFUSED))
    if rc == EXIT_REFUSED or doc.get('refused'):
        refused(module, doc, gp.base + args)
    actions = doc.get('actions') or []
    # A plan of nothing but the reboot is one apply has nothing to do for (the node waits
    # for the reboot an earlier apply asked for).
    changed = any(a.get('action') != 'reboot' for a in actions)
    result = dict(changed=changed, reboot_required=bool(doc.get('reboot_required')),
                  stack=stack_of(doc.get('stack')), actions=actions,
                  msg='%d actions planned' % len(actions) if changed else 'nothing to do')
    if module._diff:
        result['diff'] = [file_diff(a) for a in actions if a.get('action') == 'file']
    module.exit_json(**result)


def failed_step(gp):
    """The step of apply's journal that did not finish: the first one not done."""
    run = (gp.status().get('last_run') or {})
    for s in run.get('steps') or []:
        if not s.get('done'):
            return s.get('step')
    return None


def apply(module, gp):
    p = module.params
    args = ['apply', p['profile'], '--yes', '--json', '--detailed-exitcodes'] + resolve_options(p)
    if not p['refresh']:
        args.append('--no-refresh')
    if p['bundle']:
        args += ['--bundle', p['bundle']]
        for m in p['mirror'] or []:
            args += ['--mirror', m]
    rc, doc, err = gp.run_json(args, (EXIT_OK, EXIT_CHANGED, EXIT_CHANGED_REBOOT, EXIT_REFUSED, EXIT_FAILURE))
    argv = gp.base + args
    if rc == EXIT_REFUSED:
        refused(module, doc, argv)
    if rc == EXIT_FAILURE:
        step = failed_step(gp)
        module.fail_json(msg='gpuprov apply %s failed at %s: %s' % (p['profile'], step or 'an unknown step',
                                                                     doc.get('error')),
                         step=step, error=doc.get('error'), actions=doc.get('done') or [],
                         pending=doc.get('pending') or [], rc=rc, stderr=err, cmd=argv,
                         changed=bool(doc.get('changed')))
    applied = gp.status().get('applied')
    changed = rc in (EXIT_CHANGED, EXIT_CHANGED_REBOOT)
    reboot = rc == EXIT_CHANGED_REBOOT
    module.exit_json(changed=changed, reboot_required=reboot, stack=stack_of(applied),
                     actions=doc.get('done') or [], pending=doc.get('pending') or [],
                     msg='applied %s%s' % (p['profile'], ', reboot required' if reboot else '')
                     if changed else 'nothing to do')


def main():
    module = AnsibleModule(
        argument_spec=target_args(
            profile=dict(type='str', required=True),
            profiles=dict(type='path'),
            bundle=dict(type='str'),
            mirror=dict(type='list', elements='str'),
            refresh=dict(type='bool', default=True),
            retry_failed=dict(type='bool', default=False),
            strict=dict(type='bool', default=False),
        ),
        required_by=dict(mirror='bundle'),
        supports_check_mode=True,
    )
    gp = Gpuprov(module)
    if module.check_mode:
        check(module, gp)
    else:
        apply(module, gp)


if __name__ == '__main__':
    main()
