ELF placeholder grub module
