
bovin
porcin