#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: verify
short_description: The verdict on a GPU node's new stack after its reboot
description:
  - Reads C(gpuprov status --json) - the verdict of the last verify on the stack the last
    apply installed (committed, hardware fault, rolled back, or none yet), and whether the
    running kernel is that stack's. After M(ansible.builtin.reboot), loop on it with C(until)
    until the verdict is given - the node's C(gpuprov-verify.service) gives it at boot.
  - With I(commit=true) it runs C(gpuprov verify --commit --no-reboot --json) first, for a node
    without that unit - all checks good, the running kernel becomes the default; a check of
    the stack failed, the known-good kernel stays the default (the reboot into it is left to
    the play); only a GPU failed, the running kernel becomes the default, the node stays
    drained.
  - A node gpuprov drained for the update stays drained when the verdict is "rolled back",
    or "hardware fault" (the kernel is kept, a GPU failed), with the reason recorded
    (C(maintenance)); gpuprov-profile(5), C(maintenance).
version_added: 0.1.0
author:
  - gpuprov developers
extends_documentation_fragment:
  - gpuprov.fleet.target
options:
  commit:
    description:
      - Give the verdict now (C(verify --commit --no-reboot)) instead of only reading it.
      - A stack already committed or rolled back is only reported; check mode never commits.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: It only reads the verdict; C(commit) is not done.
  diff_mode:
    support: none
    description: Nothing to show.
seealso:
  - module: gpuprov.fleet.apply
'''

EXAMPLES = r'''
- name: Wait until gpuprov-verify.service gave its verdict on the new stack
  gpuprov.fleet.verify:
  register: verdict
  until: verdict.verdict is not none
  retries: 30
  delay: 10

- name: Stop here when the new stack was rolled back, or a GPU failed
  ansible.builtin.fail:
    msg: "{{ inventory_hostname }}: {{ verdict.verdict }} ({{ verdict.failed_checks | join(', ') }})"
  when: verdict.verdict in ['rolled back', 'hardware fault']

- name: Give the verdict now on a node without the verify unit
  gpuprov.fleet.verify:
    commit: true
'''

RETURN = r'''
verdict:
  description:
    - The last verify's result on the stack the last apply installed - C(committed),
      C(hardware fault) (the kernel kept, a GPU failed), C(rolled back) - or null when none
      was given yet.
  returned: always
  type: str
  sample: committed
committed:
  description: The running kernel is the stack's and the verdict is C(committed).
  returned: always
  type: bool
running_kernel:
  description: The kernel the node runs.
  returned: always
  type: str
  sample: 6.8.0-49-generic
kernel:
  description: The kernel of the stack the last apply installed; null when nothing was applied.
  returned: always
  type: str
  sample: 6.8.0-49-generic
reboot_pending:
  description: The node must reboot for the stack to be running.
  returned: always
  type: bool
failed_checks:
  description:
    - The checks that failed in the last verify (named so because Ansible keeps C(failed)
      for the task's own outcome).
  returned: always
  type: list
  elements: str
maintenance:
  description:
    - gpuprov's maintenance record (the scheduler, the node, whether gpuprov drained it, the
      reason, when it was held or ended), as doc/formats.md describes it; null when none.
  returned: always
  type: dict
checks:
  description: With I(commit), the checks verify ran, as C(verify --json) prints them.
  returned: when commit ran
  type: list
  elements: dict
changed:
  description: With I(commit), whether this run gave the verdict.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuprov.fleet.plugins.module_utils.gpuprov import (
    EXIT_OK, EXIT_REFUSED, Gpuprov, target_args)


def main():
    module = AnsibleModule(argument_spec=target_args(commit=dict(type='bool', default=False)),
                           supports_check_mode=True)
    gp = Gpuprov(module)
    result = dict(changed=False)
    if module.params['commit'] and not module.check_mode:
        before = ((gp.status().get('applied') or {}).get('verified') or {}).get('result')
        # A failed check is a verdict (exit 3), not a failure of the task: the play decides.
        doc = gp.run_json(['verify', '--commit', '--no-reboot', '--json'], (EXIT_OK, EXIT_REFUSED))[1]
        result['checks'] = doc.get('checks') or []
        result['changed'] = before is None and doc.get('result') in ('committed', 'hardware fault', 'rolled back')
    status = gp.status()
    applied = status.get('applied') or {}
    verified = applied.get('verified') or {}
    verdict = verified.get('result')
    running = status.get('running_kernel')
    result.update(verdict=verdict,
                  committed=verdict == 'committed' and running is not None and running == applied.get('kernel'),
                  running_kernel=running, kernel=applied.get('kernel'),
                  reboot_pending=bool(status.get('reboot_pending')),
                  failed_checks=verified.get('failed') or [], maintenance=applied.get('maintenance'))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
