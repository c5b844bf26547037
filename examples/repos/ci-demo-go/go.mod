module example.com/ci-demo-go

go 1.24
