#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: facts
short_description: The GPU node's facts as gpuprov detects them
description:
  - Runs C(gpuprov detect --json) and returns its document as C(ansible_facts.gpuprov), with the
    CPU and architecture, OS, kernels, boot mode, GPUs, NVSwitches, HCAs, loaded modules,
    driver, CUDA and fabric manager versions, C(/boot) space.
  - Reads only; changes nothing on the node.
version_added: 0.1.0
author:
  - gpuprov developers
extends_documentation_fragment:
  - gpuprov.fleet.target
options: {}
attributes:
  check_mode:
    support: full
    description: It reads only.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  facts:
    support: full
    description: The document is returned as C(ansible_facts.gpuprov).
seealso:
  - module: gpuprov.fleet.apply
'''

EXAMPLES = r'''
- name: Read the GPU node's facts
  gpuprov.fleet.facts:

- name: Report the GPUs
  ansible.builtin.debug:
    msg: "{{ ansible_facts.gpuprov.os.pretty_name }}, driver {{ ansible_facts.gpuprov.nvidia.driver.version | default('none') }}"
'''

RETURN = r'''
ansible_facts:
  description: The facts.
  returned: success
  type: complex
  contains:
    gpuprov:
      description:
        - The document C(gpuprov detect --json) prints, as gpuprov(8) and doc/formats.md
          describe it.
      returned: success
      type: dict
      sample: {"os": {"id": "ubuntu", "version_id": "22.04"}, "nvidia": {"driver": {"version": "550.54.15", "flavour": "open"}}}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.gpuprov.fleet.plugins.module_utils.gpuprov import (
    EXIT_OK, Gpuprov, target_args)


def main():
    module = AnsibleModule(argument_spec=target_args(), supports_check_mode=True)
    doc = Gpuprov(module).run_json(['detect', '--json'], (EXIT_OK,))[1]
    module.exit_json(changed=False, ansible_facts=dict(gpuprov=doc))


if __name__ == '__main__':
    main()
