module github.com/libloyalty/loyalty-go

go 1.22
