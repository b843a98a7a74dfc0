# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
# The options every module of gpuprov.fleet takes to reach a node's gpuprov; the module
# utility gpuprov.py reads them (TARGET_ARGS).

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  root:
    description:
      - The target filesystem gpuprov works on (C(gpuprov --root)).
      - C(/) is the node itself; another directory is a node's tree mounted or prepared there.
    type: path
    default: /
  sysroot:
    description:
      - Where gpuprov reads C(/sys) and C(/proc) (C(gpuprov --sysroot)); by default the root.
    type: path
  binary:
    description:
      - The gpuprov program to run, a path or a name looked up in C(PATH).
    type: str
    default: gpuprov
notes:
  - The module runs gpuprov on the managed node and reads its JSON and exit codes, as
    gpuprov(8) documents them; the gpuprov there should be the collection's version.
requirements:
  - gpuprov on the managed node
'''
