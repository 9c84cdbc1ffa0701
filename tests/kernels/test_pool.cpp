// placeholder: tests arrive with their family's work
