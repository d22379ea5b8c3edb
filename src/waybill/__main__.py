from waybill.cli.main import main

main()
