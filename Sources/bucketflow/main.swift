import BucketflowCLI

await BucketflowMain.main()
