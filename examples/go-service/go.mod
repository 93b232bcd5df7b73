module example.com/loyalty-service

go 1.22

require github.com/libloyalty/loyalty-go v0.0.0

replace github.com/libloyalty/loyalty-go => ../../bindings/go
